// Command assay-mcp serves assay's MCP tools: stdio by default, streamable
// HTTP with --http ADDR. `assay mcp serve` is the same server.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/version"
	"github.com/assay-dev/assay/tools/serve"
)

func main() {
	c := serve.Command("assay-mcp")
	// --version prints "assay-mcp <version> (pack format <v>)" and exits 0.
	c.Version = version.Version
	c.SetVersionTemplate("assay-mcp " + version.Version + " (pack format " + version.PackFormat + ")\n")
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exit.Bad("see 'assay-mcp --help'", "%s", err.Error())
	})
	if err := c.Execute(); err != nil {
		var s exit.Silent
		if !errors.As(err, &s) {
			fmt.Fprintf(os.Stderr, "assay-mcp: %s\n", err)
		}
		os.Exit(exit.Code(err))
	}
}
