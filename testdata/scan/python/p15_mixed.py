from langchain_core.runnables import R
client.chat.completions.create()
chain.invoke(1)
call_llm(2)
