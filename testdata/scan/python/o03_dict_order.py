d = {call_llm(): ask_llm(), run_model(): query_model()}
