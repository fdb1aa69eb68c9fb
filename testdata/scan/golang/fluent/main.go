package main

import (
	"context"

	"github.com/openai/openai-go/v3"
)

func main() {
	client := openai.NewClient()
	client.
		Chat.Completions.
		New(context.Background(), openai.ChatCompletionNewParams{})
}
