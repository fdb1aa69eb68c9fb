import openai
client = openai.OpenAI()
client.chat.completions.create(model="gpt-4o", messages=[])
