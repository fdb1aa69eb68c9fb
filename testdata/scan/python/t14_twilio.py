client.messages.create(to="+1", body="hi")
