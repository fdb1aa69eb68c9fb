package main

import (
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/tools/serve"
)

// mcpSubcommands are the children of `assay mcp`; other files add theirs
// (e.g. `mcp policy`) by appending in init, so there is one `mcp` command.
var mcpSubcommands []func() *cobra.Command

func init() {
	mcpSubcommands = append(mcpSubcommands, func() *cobra.Command {
		return serve.CommandIn("serve", func(c *cobra.Command) []string { return envOf(c).Vars })
	})
	commands = append(commands, func() *cobra.Command {
		c := &cobra.Command{
			Use:     "mcp",
			Short:   "MCP: serve assay's tools to agents (assay mcp serve)",
			GroupID: "capture",
			Args:    cobra.NoArgs,
		}
		for _, mk := range mcpSubcommands {
			c.AddCommand(mk())
		}
		return c
	})
}
