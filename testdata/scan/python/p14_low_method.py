self.call_llm("hello")
