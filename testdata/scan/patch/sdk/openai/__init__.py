"""Stand-in for the openai SDK (see ../README.md)."""
import os

from ._http import Stream, ns, post
from .resources.chat.completions import Completions, AsyncCompletions
from .resources.responses import Responses


class _Chat:
    def __init__(self, client):
        self.completions = Completions(client)


class _AsyncChat:
    def __init__(self, client):
        self.completions = AsyncCompletions(client)


class OpenAI:
    def __init__(self, api_key=None, base_url=None):
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "")
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.chat = _Chat(self)
        self.responses = Responses(self)

    def _post(self, path, body, extra_headers=None):
        headers = {"authorization": "Bearer " + self.api_key, **(extra_headers or {})}
        if body.get("stream"):
            return Stream(self.base_url + path, headers, body)
        return ns(post(self.base_url + path, headers, body))


class AsyncOpenAI(OpenAI):
    def __init__(self, api_key=None, base_url=None):
        super().__init__(api_key, base_url)
        self.chat = _AsyncChat(self)
