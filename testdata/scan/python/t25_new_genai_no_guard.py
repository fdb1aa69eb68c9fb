from google import genai
chain.invoke(1)
