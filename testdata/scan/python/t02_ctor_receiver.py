from openai import OpenAI as O
O().chat.completions.create()
