package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/remote"
)

func init() { commands = append(commands, newAuditCmd) }

func newAuditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "audit",
		Short:   "Make what an auditor receives: 'assay audit bundle PACK'",
		GroupID: "evidence",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit.Bad("use 'assay audit bundle PACK [-o FILE]'", "audit needs a subcommand")
		},
	}
	var out string
	var asJSON, force bool
	b := &cobra.Command{
		Use:   "bundle PACK",
		Short: "Write a .tar.gz of a verified pack with signer info, summary, instructions and the verify result",
		Long: `Verify PACK and write an audit bundle: a .tar.gz holding every file of the
pack plus SIGNER_INFO.json, PACK_SUMMARY.md, VERIFY_INSTRUCTIONS.md (how to
verify with assay and with the reference 'pip install assay-ai') and
VERIFY_RESULT.json. 'assay verify-pack' accepts the bundle directly.

Exit codes: 0 written; 2 the pack failed integrity verification (nothing is
written); 3 bad input. A pack whose claims honestly failed is bundled.`,
		Example: `  assay audit bundle proof_pack_trace_20260115T115900_1a2b3c4d
  assay audit bundle pack/ -o for-auditor.tar.gz`,
		Args: exactArgs(1, "give the pack directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The same request type and result as the MCP bundle tool.
			req := ops.BundleRequest{Pack: args[0], Out: out, Force: force}
			var res *ops.BundleResult
			var err error
			if remote.IsURL(req.Pack) || remote.IsURL(req.Out) {
				home, _ := envOf(cmd).Home()
				res, err = remote.AuditBundle(cmd.Context(), req, home, blob.Options{Getenv: envOf(cmd).Getenv})
			} else {
				res, err = ops.AuditBundle(req, nil)
			}
			if err != nil {
				return err
			}
			r := res.Bundle
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, res)
			}
			fmt.Fprintf(w, "%s %s (%d bytes, %d files)\n", newStyle(w).Green("audit bundle written:"), r.Path, r.Bytes, len(r.Files))
			fmt.Fprintf(w, "  pack %s, verdict at bundle time %s\n", r.PackID, r.Verdict)
			if blob.IsURL(r.Path) {
				fmt.Fprintf(w, "  check it: assay verify-pack '%s'\n", r.Path)
				return nil
			}
			fmt.Fprintf(w, "  check it: assay verify-pack %s\n", r.Path)
			return nil
		},
	}
	b.Flags().StringVarP(&out, "output", "o", "", "bundle file (default audit_bundle_<pack_id>.tar.gz), or a storage URL: s3://BUCKET/PREFIX/ (default name) or s3://BUCKET/KEY.tar.gz")
	b.Flags().BoolVar(&asJSON, "json", false, "print one JSON document (schema: schemas/bundle-result.schema.json)")
	b.Flags().BoolVar(&force, "force", false, "replace an existing bundle file")
	c.AddCommand(b)
	return c
}
