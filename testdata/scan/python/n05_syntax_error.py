def foo(:
    client.chat.completions.create()
