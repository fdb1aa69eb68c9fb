(client.chat.completions.create)(model="x")
