def call_llm(x):
    return x
