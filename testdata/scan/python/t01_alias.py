import openai as oa
oa.chat.completions.create()
