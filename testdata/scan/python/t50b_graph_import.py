from langgraph.graph import StateGraph
async def f():
    await graph.ainvoke(state)
