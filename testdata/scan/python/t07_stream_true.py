client.chat.completions.create(model="x", stream=True)
