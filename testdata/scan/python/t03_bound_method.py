create = client.chat.completions.create
create()
