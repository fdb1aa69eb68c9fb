client = get_client()
client.completions.create(model="x", prompt="p")
