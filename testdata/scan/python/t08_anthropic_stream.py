with client.messages.stream(model="x") as s:
    pass
