@call_llm('x')
def f():
    pass
