f(x=call_llm(), *run_model())
