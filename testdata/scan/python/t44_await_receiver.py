async def f():
    return (await get_client()).chat.completions.create()
