import anthropic

_client = anthropic.Anthropic()


def escalate(note):
    msg = _client.messages.create(
        model="claude-sonnet-4",
        max_tokens=64,
        messages=[{"role": "user", "content": note}],
    )
    return msg.content[0].text
