import litellm as ll
ll.completion(model="x")
