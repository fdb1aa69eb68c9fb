import langchain
chain.invoke(call_llm(1), x=client.chat.completions.create())
