package main

import (
	"context"

	anth "github.com/anthropics/anthropic-sdk-go"
)

func newClient() anth.Client { return anth.NewClient() }

func main() {
	c := newClient()
	c.Messages.New(context.Background(), anth.MessageNewParams{})
	newClient().Messages.NewStreaming(context.Background(), anth.MessageNewParams{})
	c.Beta.Messages.New(context.Background(), anth.BetaMessageNewParams{})
}
