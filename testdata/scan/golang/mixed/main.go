package main

import (
	"context"

	"github.com/assay-dev/assay/core/capture"
	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
)

func main() {
	ctx := context.Background()
	hc, _ := capture.NewClient(capture.Options{})
	good := openai.NewClient(option.WithHTTPClient(hc))
	bad := openai.NewClient(option.WithAPIKey("k"))
	good.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{})
	bad.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{})
	bad.Completions.New(ctx, openai.CompletionNewParams{})
}
