from openai import OpenAI

client = OpenAI()


def ask(q):
    r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])
    return r.choices[0].message.content


print(ask("hello there"))
