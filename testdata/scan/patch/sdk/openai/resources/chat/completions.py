class Completions:
    def __init__(self, client):
        self._client = client

    def create(self, *, model, messages, **kw):
        return self._client._post("/chat/completions", dict(model=model, messages=messages, **kw))


class AsyncCompletions(Completions):
    async def create(self, *, model, messages, **kw):
        return self._client._post("/chat/completions", dict(model=model, messages=messages, **kw))
