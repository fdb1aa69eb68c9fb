package main

import (
	"context"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

func main() {
	ctx := context.Background()
	llm, err := openai.New()
	if err != nil {
		return
	}
	llms.GenerateFromSinglePrompt(ctx, llm, "hi")
	llm.GenerateContent(ctx, nil)
	llm.Call(ctx, "hi")
}
