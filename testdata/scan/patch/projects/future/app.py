#!/usr/bin/env python3
"""Future app."""
from __future__ import annotations

from openai import OpenAI

client = OpenAI()
out = client.responses.create(model="gpt-4o", input="summarise this")
print(out.output_text)
