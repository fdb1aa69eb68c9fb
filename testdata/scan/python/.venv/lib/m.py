client.chat.completions.create()
