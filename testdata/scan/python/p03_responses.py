client.responses.create(model="gpt-4o", input="hi")
