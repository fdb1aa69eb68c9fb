from litellm import completion
completion(model="x")
