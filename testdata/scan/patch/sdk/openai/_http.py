import json
import urllib.request
from types import SimpleNamespace


def ns(v):
    if isinstance(v, dict):
        return SimpleNamespace(**{k: ns(x) for k, x in v.items()})
    if isinstance(v, list):
        return [ns(x) for x in v]
    return v


def post(url, headers, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    for k, v in headers.items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class Stream:
    """Server-sent events as SDK objects, like the real SDKs' Stream."""

    def __init__(self, url, headers, body):
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
        req.add_header("content-type", "application/json")
        for k, v in headers.items():
            req.add_header(k, v)
        self._resp = urllib.request.urlopen(req, timeout=30)

    def __iter__(self):
        return self

    def __next__(self):
        for raw in self._resp:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            return ns(json.loads(data))
        self.close()
        raise StopIteration

    def close(self):
        self._resp.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
