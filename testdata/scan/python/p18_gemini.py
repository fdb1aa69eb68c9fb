import google.generativeai as genai
model.generate_content("Hello")
model.generate_content_async("Hello")
