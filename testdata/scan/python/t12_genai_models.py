client.models.generate_content(model="g")
client.models.generate_content_stream(model="g")
