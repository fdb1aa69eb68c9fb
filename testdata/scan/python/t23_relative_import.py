from .langchain import helper
chain.invoke(1)
