client.embeddings.create(input="x")
