"""Support bot: answers with OpenAI, escalates with Anthropic."""
from support.escalate import escalate
from openai import OpenAI

client = OpenAI()


def answer(q):
    r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])
    return r.choices[0].message.content


print(answer("where is my order"))
print(escalate("customer is angry"))
