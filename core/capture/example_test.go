package capture_test

import (
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/assay-dev/assay/core/capture"
)

// The two lines: construct the middleware, pass it to the SDK. Receipts go
// to $ASSAY_TRACE_ID in the store at $ASSAY_HOME (set by 'assay run').
func ExampleNewClient() {
	hc, err := capture.NewClient(capture.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	client := openai.NewClient(option.WithHTTPClient(hc))
	_, _ = client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	})
}
