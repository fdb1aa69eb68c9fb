package main

import (
	"fmt"
	"github.com/assay-dev/assay/core/suggest"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/ops"
)

func init() { commands = append(commands, newExplainCmd) }

func newExplainCmd() *cobra.Command {
	var format string
	var asJSON bool
	c := &cobra.Command{
		Use:     "explain PACK",
		Short:   "Explain a pack: what happened, integrity, claims, what it proves and does not",
		GroupID: "evidence",
		Long: `Explain a pack or audit bundle in plain words: what happened (receipts,
models, tokens, time range), whether the evidence is intact, how its claims
came out, and what it does and does not prove. The pack is verified first;
contents of a pack that fails verification are marked unverified.

explain reports; it does not gate: it exits 0 whatever the verdict (the
verdict and the exit code verify-pack would give are in --json). Use
'assay verify-pack' to gate on the evidence.`,
		Example: `  assay explain proof_pack_trace_20260115T115900_1a2b3c4d
  assay explain audit_bundle.tar.gz --format md > EVIDENCE.md
  assay explain pack/ --json`,
		Args: exactArgs(1, "give the pack directory or audit bundle"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				if cmd.Flags().Changed("format") && format != "json" {
					return exit.Bad("give either --json or --format", "--json conflicts with --format %s", format)
				}
				format = "json"
			}
			if format != "text" && format != "md" && format != "json" {
				return exit.Bad(suggest.Hint(format, []string{"text", "md", "json"})+"use text, md or json", "unknown --format %q", format)
			}
			e, err := ops.Explain(ops.ExplainRequest{Path: args[0]})
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
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document (same as --format json; schema: schemas/explain-result.schema.json)")
	return c
}
