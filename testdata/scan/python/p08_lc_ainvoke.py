from langchain_core.runnables import RunnableSequence
await chain.ainvoke({"q": 1})
