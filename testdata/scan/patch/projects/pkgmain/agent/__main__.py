"""Agent entry point: python -m agent."""
import anthropic

client = anthropic.Anthropic()
msg = client.messages.create(model="claude-sonnet-4", max_tokens=64, messages=[{"role": "user", "content": "plan the day"}])
print(msg.content[0].text)
