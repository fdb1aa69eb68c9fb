"""Docstring app.

Two calls, one of them a fluent chain over three lines.
"""
from openai import OpenAI

client = OpenAI()
a = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "one"}])
b = (client
     .chat.completions
     .create(model="gpt-4o", messages=[{"role": "user", "content": "two"}]))
print(a.choices[0].message.content, b.choices[0].message.content)
