client.beta.chat.completions.parse(model="x")
