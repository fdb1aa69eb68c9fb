x = f"{client.chat.completions.create(model=1)}"
