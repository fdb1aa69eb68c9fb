package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/exit"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		var addr string
		c := &cobra.Command{
			Use:   "mock-llm",
			Short: "Run a synthetic LLM server (OpenAI, Anthropic, Gemini wire formats) to rehearse without an API key",
			Long: `Run a deterministic synthetic LLM server on loopback. It speaks OpenAI chat
completions and responses, Anthropic messages and Gemini generateContent,
streaming included. Answers and token counts are derived from the request.
Models named like "gpt-error-500" get that HTTP error; "abort" in the model
name drops the connection mid-answer; "slow" paces streamed events.

It prints its URL, then the environment lines that point the official SDKs
at it. With those exported, 'assay run --gateway -- CMD' records the calls:
the gateway takes a base URL already set in the environment as its
upstream. Stop it with Ctrl-C.`,
			GroupID: "capture",
			Hidden:  true,
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				s, err := mockllm.Start(addr)
				if err != nil {
					return exit.Bad("pick a free HOST:PORT, e.g. --addr 127.0.0.1:0", "%v", err)
				}
				defer s.Close()
				out := cmd.OutOrStdout()
				fmt.Fprintln(out, s.URL())
				for _, kv := range s.Env() {
					fmt.Fprintf(out, "export %s\n", kv)
				}
				fmt.Fprintln(cmd.ErrOrStderr(), "assay mock-llm: serving; press Ctrl-C to stop")
				<-ctx.Done()
				return nil
			},
		}
		c.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "listen address HOST:PORT (port 0 picks a free one)")
		return c
	})
}
