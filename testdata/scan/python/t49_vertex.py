ChatAnthropicVertex(model="x")
