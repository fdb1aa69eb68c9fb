"""client.chat.completions.create()"""
# client.chat.completions.create()
x = "client.chat.completions.create()"
y = '''client.messages.create()'''
