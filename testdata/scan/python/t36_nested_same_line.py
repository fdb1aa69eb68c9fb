client.chat.completions.create(messages=[call_llm('x')])
