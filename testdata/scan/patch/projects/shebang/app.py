#!/usr/bin/env python3
import openai

client = openai.OpenAI()
print(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]).choices[0].message.content)
