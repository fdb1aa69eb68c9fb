package main

import (
	"context"

	"github.com/openai/openai-go"
)

func main() {
	client := openai.NewClient()
	client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{})
	_, _ = client.Responses.New(context.Background(), nil)
	// client.Chat.Completions.New(ctx, p) in a comment is not a call
	_ = "client.Chat.Completions.New(ctx, p)"
	client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{})
}
