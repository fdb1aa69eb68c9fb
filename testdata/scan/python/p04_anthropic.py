import anthropic
client = anthropic.Anthropic()
client.messages.create(model="c", max_tokens=5, messages=[])
