import google.generativeai as genai
chain.invoke(1)
