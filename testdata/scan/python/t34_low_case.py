Call_LLM(1)
self.Query_Model(2)
