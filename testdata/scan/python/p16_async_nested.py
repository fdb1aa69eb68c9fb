async def f(self):
    await client.chat.completions.create()
    self.client.chat.completions.create()
