llm = ChatAnthropic(model="c")
