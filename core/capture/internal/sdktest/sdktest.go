// Package sdktest drives the real Go SDKs (openai-go, anthropic-sdk-go,
// genai) for the capture tests: one function per API, each returning the
// answer text the SDK produced. Retries are off so one call is one HTTP
// exchange.
package sdktest

import (
	"context"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	oaopt "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"google.golang.org/genai"
)

// Call describes one SDK call.
type Call struct {
	Base   string       // the SDK's base URL
	HTTP   *http.Client // nil = the SDK's default
	Key    string       // API key sent
	Model  string
	System string
	Prompt string
	Stream bool
	Max    int // max tokens, 0 = SDK default (Anthropic: 1024)
}

// Func runs a call and returns the text.
type Func func(ctx context.Context, c Call) (string, error)

// OpenAIChat calls chat completions (streams ask for usage).
func OpenAIChat(ctx context.Context, c Call) (string, error) {
	opts := []oaopt.RequestOption{oaopt.WithBaseURL(c.Base), oaopt.WithAPIKey(c.Key), oaopt.WithMaxRetries(0)}
	if c.HTTP != nil {
		opts = append(opts, oaopt.WithHTTPClient(c.HTTP))
	}
	cl := openai.NewClient(opts...)
	p := openai.ChatCompletionNewParams{Model: c.Model}
	if c.System != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(c.System))
	}
	p.Messages = append(p.Messages, openai.UserMessage(c.Prompt))
	if c.Max > 0 {
		p.MaxCompletionTokens = openai.Int(int64(c.Max))
	}
	if !c.Stream {
		r, err := cl.Chat.Completions.New(ctx, p)
		if err != nil {
			return "", err
		}
		return r.Choices[0].Message.Content, nil
	}
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	s := cl.Chat.Completions.NewStreaming(ctx, p)
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		for _, ch := range s.Current().Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String(), s.Err()
}

// OpenAIResponses calls the responses API with a string input.
func OpenAIResponses(ctx context.Context, c Call) (string, error) {
	opts := []oaopt.RequestOption{oaopt.WithBaseURL(c.Base), oaopt.WithAPIKey(c.Key), oaopt.WithMaxRetries(0)}
	if c.HTTP != nil {
		opts = append(opts, oaopt.WithHTTPClient(c.HTTP))
	}
	cl := openai.NewClient(opts...)
	p := responses.ResponseNewParams{Model: c.Model, Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(c.Prompt)}}
	if c.System != "" {
		p.Instructions = openai.String(c.System)
	}
	if c.Max > 0 {
		p.MaxOutputTokens = openai.Int(int64(c.Max))
	}
	if !c.Stream {
		r, err := cl.Responses.New(ctx, p)
		if err != nil {
			return "", err
		}
		return r.OutputText(), nil
	}
	s := cl.Responses.NewStreaming(ctx, p)
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		if ev := s.Current(); ev.Type == "response.output_text.delta" {
			b.WriteString(ev.Delta)
		}
	}
	return b.String(), s.Err()
}

// Anthropic calls messages.
func Anthropic(ctx context.Context, c Call) (string, error) {
	opts := []anthopt.RequestOption{anthopt.WithBaseURL(c.Base), anthopt.WithAPIKey(c.Key), anthopt.WithMaxRetries(0)}
	if c.HTTP != nil {
		opts = append(opts, anthopt.WithHTTPClient(c.HTTP))
	}
	cl := anthropic.NewClient(opts...)
	max := int64(1024)
	if c.Max > 0 {
		max = int64(c.Max)
	}
	p := anthropic.MessageNewParams{Model: anthropic.Model(c.Model), MaxTokens: max,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(c.Prompt))}}
	if c.System != "" {
		p.System = []anthropic.TextBlockParam{{Text: c.System}}
	}
	if !c.Stream {
		m, err := cl.Messages.New(ctx, p)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for _, blk := range m.Content {
			b.WriteString(blk.Text)
		}
		return b.String(), nil
	}
	s := cl.Messages.NewStreaming(ctx, p)
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		ev := s.Current()
		if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" {
			b.WriteString(ev.Delta.Text)
		}
	}
	return b.String(), s.Err()
}

// Gemini calls generateContent / streamGenerateContent.
func Gemini(ctx context.Context, c Call) (string, error) {
	cfg := &genai.ClientConfig{APIKey: c.Key, Backend: genai.BackendGeminiAPI, HTTPClient: c.HTTP,
		HTTPOptions: genai.HTTPOptions{BaseURL: c.Base}}
	cl, err := genai.NewClient(ctx, cfg)
	if err != nil {
		return "", err
	}
	gc := &genai.GenerateContentConfig{}
	if c.System != "" {
		gc.SystemInstruction = genai.NewContentFromText(c.System, genai.RoleUser)
	}
	if c.Max > 0 {
		gc.MaxOutputTokens = int32(c.Max)
	}
	if !c.Stream {
		r, err := cl.Models.GenerateContent(ctx, c.Model, genai.Text(c.Prompt), gc)
		if err != nil {
			return "", err
		}
		return r.Text(), nil
	}
	var b strings.Builder
	for r, err := range cl.Models.GenerateContentStream(ctx, c.Model, genai.Text(c.Prompt), gc) {
		if err != nil {
			return b.String(), err
		}
		b.WriteString(r.Text())
	}
	return b.String(), nil
}
