"""Stand-in for the anthropic SDK (see ../README.md)."""
import os

from openai._http import Stream, ns, post
from .resources.messages import Messages


class Anthropic:
    def __init__(self, api_key=None, base_url=None):
        self.api_key = api_key or os.environ.get("ANTHROPIC_API_KEY", "")
        self.base_url = (base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com").rstrip("/")
        self.messages = Messages(self)

    def _post(self, path, body, extra_headers=None):
        headers = {"x-api-key": self.api_key, "anthropic-version": "2023-06-01", **(extra_headers or {})}
        if body.get("stream"):
            return Stream(self.base_url + path, headers, body)
        return ns(post(self.base_url + path, headers, body))
