package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/remote"
	"github.com/assay-dev/assay/core/seal"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/pack"
)

func init() { commands = append(commands, newProofPackCmd) }

func newProofPackCmd() *cobra.Command {
	var out, mode string
	var cards []string
	var asJSON, noGenerate, allowEmpty bool
	c := &cobra.Command{
		Use:     "proof-pack TRACE_ID",
		Short:   "Build a signed proof pack from a stored trace",
		GroupID: "evidence",
		Long: `Build a signed 5-file proof pack from the receipts of a stored trace
($ASSAY_HOME/<date>/<TRACE_ID>.jsonl), signed by the active signer.
Cards (-c) evaluate claims over the receipts; the result is signed into the pack.`,
		Example: `  assay proof-pack trace_20260115T115900_1a2b3c4d
  assay proof-pack trace_20260115T115900_1a2b3c4d -o pack -c receipt_completeness -c no_breakglass`,
		Args: exactArgs(1, "give the trace id (see ASSAY_TRACE_ID, or the file names under $ASSAY_HOME)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			traceID := args[0]
			cenv := envOf(cmd)
			home, err := cenv.Home()
			if err != nil {
				return err
			}
			wd, _ := cenv.Wd()
			if out == "" {
				out = cenv.Abs("proof_pack_" + traceID)
			}
			// The same request type and result as the MCP bundle tool.
			req := ops.PackRequest{
				TraceID: traceID, Out: out, Cards: cards, Mode: mode, AllowEmpty: allowEmpty, NoGenerateKey: noGenerate,
				WorkDir: wd,
			}
			env := ops.Env{Home: home, Getenv: cenv.Getenv}
			var res *ops.BundleResult
			if remote.IsURL(out) {
				// Checked before the build, built locally, published
				// manifest last; a failed upload keeps the local copy.
				res, err = remote.Pack(cmd.Context(), req, env, blob.Options{Getenv: cenv.Getenv})
			} else {
				res, err = ops.Pack(req, env)
			}
			if err != nil {
				return err
			}
			if res.GeneratedKey != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "assay: generated signing key '%s'\n", res.GeneratedKey)
			}
			probs := res.Lost
			for _, p := range probs {
				fmt.Fprintf(cmd.ErrOrStderr(), "assay: warning: trace %s line %d is not a receipt and is left out of the pack: %s\n", traceID, p.Line, p.Err)
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				renderBuilt(cmd.OutOrStdout(), res.Pack, wd)
			}
			if res.Seal != nil {
				s := res.Seal
				switch s.Status {
				case seal.StatusAltered:
					fmt.Fprintf(cmd.ErrOrStderr(), "assay: ERROR: %s: %d alteration(s) of trace %s after its receipts were sealed\n", seal.AlteredMessage, s.AlterationsTotal, traceID)
					for _, a := range s.Alterations {
						fmt.Fprintf(cmd.ErrOrStderr(), "  %s\n", a)
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "assay: the pack holds the receipts as they were sealed and records the alterations; exit 2\n")
					return exit.Silent{Code: exit.Tampered}
				case seal.StatusTruncated:
					fmt.Fprintf(cmd.ErrOrStderr(), "assay: the seal ends at receipt %d (last checkpoint at %s): the recorder stopped before the run ended; %d receipt(s) after it are packed unsealed\n", s.Covers, s.Checkpoint.At, s.Unsealed)
				default:
					fmt.Fprintf(cmd.ErrOrStderr(), "assay: sealed as recorded: %d receipt(s), last checkpoint at %s\n", s.Covers, s.Checkpoint.At)
				}
			}
			if len(probs) > 0 {
				// The pack is honest about what it holds, but not the whole
				// trace: an honest failure, as `assay run` reports it.
				fmt.Fprintf(cmd.ErrOrStderr(), "assay: %d line(s) of trace %s could not be packed (see the warnings above); exit 1\n", len(probs), traceID)
				return exit.Silent{Code: exit.HonestFail}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "pack directory to create (default proof_pack_<TRACE_ID>; must not exist), or an empty storage prefix s3://BUCKET/PREFIX/ (gs://, azblob://, file:///)")
	c.Flags().StringArrayVarP(&cards, "card", "c", nil, "run card id or card JSON file (repeatable); see 'assay cards list'")
	c.Flags().StringVarP(&mode, "mode", "m", "shadow", "mode recorded in the attestation: shadow, enforced or breakglass")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document (schema: schemas/bundle-result.schema.json)")
	c.Flags().BoolVar(&noGenerate, "no-generate-key", false, "fail instead of generating a signing key when none exists")
	c.Flags().BoolVar(&allowEmpty, "allow-empty", false, "build a pack even when the trace holds no receipts")
	return c
}

// renderBuilt prints the short "pack built" panel.
func renderBuilt(w io.Writer, r *pack.Result, wd string) {
	st := newStyle(w)
	fmt.Fprintf(w, "%s %s\n\n", st.Green("Proof pack built:"), r.Dir)
	row := func(k, v string) { fmt.Fprintf(w, "  %-11s %s\n", k, v) }
	row("Pack ID", r.PackID)
	row("Run", r.RunID)
	row("Signer", fmt.Sprintf("%s (%s…)", r.SignerID, r.Fingerprint[:16]))
	row("Receipts", fmt.Sprint(r.NReceipts))
	row("Integrity", r.ReceiptIntegrity)
	row("Claims", r.ClaimCheck)
	row("Merkle root", r.MerkleRoot[:16]+"…")
	if blob.IsURL(r.Dir) {
		fmt.Fprintf(w, "\nNext: assay verify-pack '%s'\n", r.Dir)
		return
	}
	abs := r.Dir
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(wd, abs)
	}
	fmt.Fprintf(w, "\nNext: assay verify-pack %s\n", relOr(wd, abs))
}

// relOr shows abs relative to wd when that is shorter.
func relOr(wd, abs string) string {
	if wd == "" {
		return abs
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !filepath.IsAbs(rel) && len(rel) < len(abs) {
		return rel
	}
	return abs
}
