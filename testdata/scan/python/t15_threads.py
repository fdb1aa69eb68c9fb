client.beta.threads.messages.create(thread_id="t")
