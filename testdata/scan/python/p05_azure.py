azure_client.chat_completions.create(model="x")
