f = lambda p: client.chat.completions.create(messages=p)
