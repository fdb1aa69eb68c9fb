get_ChatOpenAI(x)
AzureChatOpenAI(x)
