package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/version"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		var asJSON bool
		c := &cobra.Command{
			Use:     "version",
			Short:   "Print the assay version and the pack format it writes",
			GroupID: "setup",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), map[string]string{
						"version": version.Version, "pack_format_version": version.PackFormat, "go": runtime.Version(),
					})
				}
				fmt.Fprintf(cmd.OutOrStdout(), "assay %s (pack format %s, %s)\n", version.Version, version.PackFormat, runtime.Version())
				return nil
			},
		}
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		return c
	})
}
