package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/proof"
)

func init() { commands = append(commands, newVerifyReceiptCmd) }

// maxProofBytes bounds what verify-receipt reads; a proof holds one receipt,
// a manifest and a report, far below this.
const maxProofBytes = 64 << 20

func newVerifyReceiptCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "verify-receipt FILE",
		Short:   "Check a single-receipt proof from 'assay prove' offline",
		GroupID: "evidence",
		Long: `Check a receipt proof offline: the manifest signature (with the key embedded
in it), the pack root, that verify_report.json is the one the manifest pins,
that the proof uses the report's Merkle root and tree size, and that the
receipt line sits at its leaf index under that root (RFC 6962).

The signature shows the pack is unchanged since it was signed; check the
signer's fingerprint against one you trust (e.g. your assay.lock).

Exit codes (text and --json alike):
  0  the receipt is proven part of the signed pack
  2  the proof does not check out (changed, or mixed from other packs)
  3  bad input (no such file, not a receipt proof)`,
		Example: `  assay verify-receipt receipt_proof_mcr_0a1b2c3d4e5f6a7b.json`,
		Args:    exactArgs(1, "give the proof file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readProof(args[0])
			if err != nil {
				return err
			}
			r := proof.Check(data)
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(w, r); err != nil {
					return err
				}
				return exit.Silent{Code: r.ExitCode}
			}
			if r.ExitCode == exit.BadInput {
				return exit.Bad("give a file written by 'assay prove'", "%s: %s", args[0], r.Errors[0])
			}
			st := newStyle(w)
			if r.OK {
				fmt.Fprintf(w, "%s  receipt %s is in signed pack %s\n\n", st.Green("PROVEN"), r.ReceiptID, r.PackID)
			} else {
				fmt.Fprintf(w, "%s  this proof does not check out\n\n", st.Red("TAMPERED"))
			}
			row := func(k, v string) { fmt.Fprintf(w, "  %-19s %s\n", k, v) }
			if r.SignerID != "" {
				row("Signer", fmt.Sprintf("%s (%s…)", r.SignerID, shortHex(r.Signer)))
			}
			if r.Root != "" {
				row("Leaf", fmt.Sprintf("%d of %d", r.LeafIndex, r.TreeSize))
				row("Merkle root", r.Root)
			}
			for _, s := range r.Steps {
				mark := st.Green("ok")
				if !s.OK {
					mark = st.Red("FAIL") + "  " + s.Detail
				}
				row(s.Name, mark)
			}
			if r.OK {
				fmt.Fprintf(w, "\n  %s\n", r.Receipt)
			}
			fmt.Fprintf(w, "\nexit %d\n", r.ExitCode)
			return exit.Silent{Code: r.ExitCode}
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return c
}

func readProof(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, exit.Bad("check the path", "proof file not found: %s", path)
	}
	if err != nil {
		return nil, exit.Bad("check the file's permissions", "cannot read %s: %v", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, exit.Bad("give a file written by 'assay prove'", "not a regular file: %s", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxProofBytes+1))
	if err != nil {
		return nil, exit.Bad("check the file", "cannot read %s: %v", path, err)
	}
	if len(data) > maxProofBytes {
		return nil, exit.Bad("give a file written by 'assay prove'", "%s is larger than %d bytes; not a receipt proof", path, maxProofBytes)
	}
	return data, nil
}
