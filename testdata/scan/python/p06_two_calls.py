c.chat.completions.create()
c.chat.completions.create()
