class Messages:
    def __init__(self, client):
        self._client = client

    def create(self, *, model, max_tokens, messages, extra_headers=None, **kw):
        return self._client._post("/v1/messages", dict(model=model, max_tokens=max_tokens, messages=messages, **kw), extra_headers)
