# a
# b
client.chat.completions.create()
