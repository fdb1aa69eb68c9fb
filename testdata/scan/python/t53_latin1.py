# café
client.chat.completions.create()
