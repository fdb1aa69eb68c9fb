import asyncio

from openai import AsyncOpenAI, OpenAI

aclient = AsyncOpenAI()
client = OpenAI()


async def main():
    r = await aclient.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "async hello"}])
    print(r.choices[0].message.content)


asyncio.run(main())
try:
    client.chat.completions.create(model="gpt-error-500", messages=[{"role": "user", "content": "fail"}])
except Exception as e:
    print("Synthetic answer: caught", type(e).__name__)
