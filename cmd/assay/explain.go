package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/explain"
)

func init() { commands = append(commands, newExplainCmd) }

func newExplainCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:     "explain PACK",
		Short:   "Explain a pack: what happened, integrity, claims, what it proves and does not",
		GroupID: "evidence",
		Args:    exactArgs(1, "give the pack directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "md" && format != "json" {
				return exit.Bad("use text, md or json", "unknown --format %q", format)
			}
			e, err := explain.Pack(args[0])
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(cmd.OutOrStdout(), e)
			case "md":
				fmt.Fprint(cmd.OutOrStdout(), e.Text(true))
			default:
				fmt.Fprint(cmd.OutOrStdout(), e.Text(false))
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output format: text, md or json")
	return c
}
