class Responses:
    def __init__(self, client):
        self._client = client

    def create(self, *, model, input, extra_headers=None, **kw):
        r = self._client._post("/responses", dict(model=model, input=input, **kw), extra_headers)
        texts = [c.text for o in getattr(r, "output", []) for c in getattr(o, "content", []) if getattr(c, "type", "") == "output_text"]
        r.output_text = "".join(texts)
        return r
