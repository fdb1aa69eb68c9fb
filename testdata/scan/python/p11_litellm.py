import litellm
litellm.completion(model="x", messages=[])
async def f():
    await litellm.acompletion(model="x", messages=[])
