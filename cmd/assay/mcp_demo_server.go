package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/demo/mcpserver"
	"github.com/assay-dev/assay/core/exit"
)

// `assay mcp demo-server` is the synthetic MCP server that `assay try-mcp`
// runs behind the proxy (and the proxy's tests run with --faults). Hidden:
// it is plumbing, not something a user starts by hand.
func init() {
	mcpSubcommands = append(mcpSubcommands, func() *cobra.Command {
		var faults bool
		c := &cobra.Command{
			Use:   "demo-server",
			Short: "Serve the synthetic demo MCP server on stdin/stdout (used by try-mcp)",
			Long: `Serves a synthetic MCP server over stdio (newline-delimited JSON-RPC) until
stdin closes: get_weather, check_inventory, calculate_risk and delete_records
return made-up, deterministic data (delete_records deletes nothing), and
record_action adds a capability_use receipt to the trace named by
ASSAY_TRACE_ID. --faults adds fault-injection tools for tests (echo, fail,
slow, hang, crash, garbage). Logs go to stderr only.`,
			Hidden: true,
			Args:   cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				base := cmd.Context()
				if base == nil {
					base = context.Background()
				}
				// SIGINT/SIGTERM (which the proxy forwards) end the server
				// cleanly, with exit 0, like stdin EOF.
				ctx, stop := signal.NotifyContext(base, os.Interrupt, syscall.SIGTERM)
				defer stop()
				lg := *logOf(cmd)
				err := mcpserver.Serve(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), mcpserver.Options{Faults: faults, Logger: &lg})
				if err != nil {
					return exit.New(exit.HonestFail, "check that the client keeps the server's stdin and stdout open", "demo MCP server stopped: %v", err)
				}
				return nil
			},
		}
		c.Flags().BoolVar(&faults, "faults", false, "also serve the fault-injection tools (for tests)")
		return c
	})
}
