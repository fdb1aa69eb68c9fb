// Command goapp asks three LLM vendors one question each.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"google.golang.org/genai"
)

func main() {
	ctx := context.Background()

	// The OpenAI client reads OPENAI_BASE_URL and OPENAI_API_KEY.
	oa := openai.NewClient()
	chat, err := oa.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello from go")},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(chat.Choices[0].Message.Content)

	an := anthropic.NewClient() // ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY
	msg, err := an.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     "claude-sonnet-4",
		MaxTokens: 64,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("plan the day"))},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(msg.Content[0].Text)

	g, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      os.Getenv("GEMINI_API_KEY"),
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: os.Getenv("GOOGLE_GEMINI_BASE_URL")},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, err := g.Models.GenerateContent(ctx, "gemini-2.0-flash", genai.Text("say hi"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(res.Text())
}
