from unittest import mock
with mock.patch("x"):
    client.chat.completions.create()
