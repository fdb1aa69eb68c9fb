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
