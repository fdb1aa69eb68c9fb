import langchain
agent.invoke_tool(1)
bedrock.invoke_model(2)
