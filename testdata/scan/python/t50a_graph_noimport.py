async def f():
    await graph.ainvoke(state)
