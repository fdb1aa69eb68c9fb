from langchain_openai import ChatOpenAI as LLM
LLM(model="x")
