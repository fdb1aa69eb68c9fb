package main

import (
	"context"

	"github.com/assay-dev/assay/core/capture"
	"google.golang.org/genai"
)

func main() {
	ctx := context.Background()
	hc, _ := capture.NewClient(capture.Options{})
	client, _ := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "k", HTTPClient: hc})
	client.Models.GenerateContent(ctx, "gemini-2.0-flash", genai.Text("hi"), nil)
	other, _ := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "k"})
	other.Models.GenerateContentStream(ctx, "gemini-2.0-flash", genai.Text("hi"), nil)
}
