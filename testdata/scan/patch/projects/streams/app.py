import anthropic
from openai import OpenAI

client = OpenAI()
claude = anthropic.Anthropic()

parts = []
for chunk in client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "stream one"}], stream=True, stream_options={"include_usage": True}):
    if chunk.choices and getattr(chunk.choices[0].delta, "content", None):
        parts.append(chunk.choices[0].delta.content)
print("".join(parts))

with claude.messages.create(model="claude-sonnet-4", max_tokens=64, messages=[{"role": "user", "content": "stream two"}], stream=True) as events:
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta" and getattr(e.delta, "text", None))
print(text)
