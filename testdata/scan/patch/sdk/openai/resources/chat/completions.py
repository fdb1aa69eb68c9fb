class Completions:
    def __init__(self, client):
        self._client = client

    def create(self, *, model, messages, extra_headers=None, **kw):
        return self._client._post("/chat/completions", dict(model=model, messages=messages, **kw), extra_headers)


class AsyncCompletions(Completions):
    async def create(self, *, model, messages, extra_headers=None, **kw):
        return self._client._post("/chat/completions", dict(model=model, messages=messages, **kw), extra_headers)
