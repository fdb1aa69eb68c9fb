openai.ChatCompletion.create(model="x")
openai.Completion.create(model="x")
