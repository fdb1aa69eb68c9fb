def f():
    import langchain
chain.invoke(1)
