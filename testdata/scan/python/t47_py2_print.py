print 'hi'
client.chat.completions.create()
