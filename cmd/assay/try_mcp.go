package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/demo/mcpdemo"
	"github.com/assay-dev/assay/core/exit"
)

func init() { commands = append(commands, newTryMCPCmd) }

func newTryMCPCmd() *cobra.Command {
	var out string
	var asJSON bool
	c := &cobra.Command{
		Use:     "try-mcp",
		Short:   "See the MCP notary proxy work: a synthetic server, a policy, receipts and a signed pack, offline",
		GroupID: "start",
		Long: `Runs a small synthetic MCP server (weather, inventory, risk, record_action and
a destructive delete_records) behind 'assay mcp-proxy' with an enforcing policy,
makes five tool calls through it, and shows what the proxy recorded: one
receipt per call, the destructive call denied before it reached the server,
the server's own receipt in the same trace, and a signed pack that verifies.

Everything runs offline in a temporary directory with an ephemeral signing
key; nothing is left behind unless -o DIR keeps the pack, the policy and the
session file.`,
		Example: `  assay try-mcp
  assay try-mcp -o ./assay_mcp_demo && assay verify-pack ./assay_mcp_demo/proof_pack`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the assay executable: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := mcpdemo.Run(ctx, []string{exe, "mcp", "demo-server"}, out)
			if err != nil {
				return err
			}
			ok := res.Verify.ExitCode == exit.OK && res.Session.Complete && res.Session.Outcomes["denied"] == 1
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), map[string]any{"command": "try-mcp", "ok": ok, "result": res}); err != nil {
					return err
				}
			} else {
				renderTryMCP(cmd, res)
			}
			if !ok {
				return exit.New(exit.HonestFail, "run assay try-mcp --json to see each call, the session and the verification", "try-mcp: the demo session did not go as expected")
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "keep the pack, the policy and the session file in this new directory")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func renderTryMCP(cmd *cobra.Command, r *mcpdemo.Result) {
	w := cmd.OutOrStdout()
	st := newStyle(w)
	fmt.Fprintf(w, "%s a synthetic MCP server behind assay mcp-proxy, policy: mode enforce, deny delete_*\n\n", st.Bold("try-mcp:"))
	for i, c := range r.Calls {
		verdict := c.Outcome
		switch c.Outcome {
		case "forwarded":
			verdict = st.Green("forwarded")
		case "denied":
			verdict = st.Red("DENIED")
		}
		ans := c.Answer
		if len(ans) > 70 {
			ans = ans[:67] + "..."
		}
		fmt.Fprintf(w, "%d. %-16s %-11s policy %-5s %6s ms  receipt %s\n   %s\n   -> %s\n", i+1, c.Tool, verdict, c.Verdict, c.DurationMS, c.ReceiptID, c.Why, strings.ReplaceAll(ans, "\n", " "))
	}
	s := r.Session
	fmt.Fprintf(w, "\nSession %s: %d tool calls (%s); the server added %d receipt(s) of its own to the same trace.\n", s.SessionID, s.ToolCalls, s.DescribeOutcomes(), r.ServerReceipts)
	fmt.Fprintf(w, "Signed pack: %d receipts (one per call, the server's, and session_metadata) -> verify-pack: %s (exit %d)\n", r.PackReceipts, verdictWord(st, r.Verify), r.Verify.ExitCode)
	if r.Kept != "" {
		fmt.Fprintf(w, "\nKept in %s: proof_pack/, assay.mcp-policy.yaml, the session file.\nNext: assay verify-pack %s/proof_pack\n", r.Kept, r.Kept)
	} else {
		fmt.Fprintf(w, "\nNothing was left behind (-o DIR keeps the pack). Next: 'assay mcp policy init' then\n  assay mcp-proxy --policy assay.mcp-policy.yaml -- <your MCP server command>\n")
	}
}
