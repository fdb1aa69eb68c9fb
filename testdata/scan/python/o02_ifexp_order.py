a.call_llm() if b.run_model() else c.ask_llm()
