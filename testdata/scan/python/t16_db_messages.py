db.messages.create(x=1)
