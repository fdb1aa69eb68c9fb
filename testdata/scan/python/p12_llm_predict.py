from langchain.llms import OpenAI
llm.predict("hi")
