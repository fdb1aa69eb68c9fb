import langchain
llm.predict(1)
self.llm.predict_messages(2)
model.predict(X)
