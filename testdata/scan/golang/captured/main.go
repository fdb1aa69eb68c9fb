package main

import (
	"context"

	"github.com/assay-dev/assay/core/capture"
	"github.com/openai/openai-go/v2"
	"github.com/openai/openai-go/v2/option"
)

func main() {
	hc, err := capture.NewClient(capture.Options{})
	if err != nil {
		panic(err)
	}
	client := openai.NewClient(option.WithHTTPClient(hc))
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{})
	_ = stream
}
