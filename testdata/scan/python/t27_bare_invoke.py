import langchain
invoke(1)
