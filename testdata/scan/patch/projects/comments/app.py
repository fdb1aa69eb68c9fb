# -*- coding: utf-8 -*-
# Copyright 2026 Example Corp.
# Licensed under the Apache License 2.0.
from __future__ import annotations

import anthropic

client = anthropic.Anthropic()
reply = client.messages.create(model="claude-haiku", max_tokens=32, messages=[{"role": "user", "content": "café"}])
print(reply.content[0].text)
