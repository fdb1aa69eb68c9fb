from llama_index.core import VectorStoreIndex
agent.invoke(1)
