from langchain_core.runnables import RunnableSequence
chain.invoke({"q": 1})
