package agent

import (
	"context"

	"github.com/anthropics/anthropic-sdk-go"
)

func (a *Agent) Plan(ctx context.Context) {
	a.llm.Messages.New(ctx, anthropic.MessageNewParams{})
}
