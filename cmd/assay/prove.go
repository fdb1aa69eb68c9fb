package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/proof"
	"github.com/assay-dev/assay/internal/lazyre"
)

func init() { commands = append(commands, newProveCmd) }

var safeFileID = lazyre.New(`^[A-Za-z0-9._-]{1,100}$`)

func newProveCmd() *cobra.Command {
	var out string
	var asJSON, force bool
	c := &cobra.Command{
		Use:     "prove PACK RECEIPT_ID",
		Short:   "Write a proof of one receipt that can be checked without the rest of the pack",
		GroupID: "evidence",
		Long: `Verify PACK, then write one JSON file proving that the receipt RECEIPT_ID is
in it: the receipt line, its RFC 6962 inclusion proof under the Merkle root
recorded in verify_report.json, the signed manifest and the report.
'assay verify-receipt FILE' checks it offline. The file is canonical JSON:
do not reformat it.

Exit codes: 0 written; 2 the pack failed integrity verification; 3 bad input
(no such receipt, or a pack without a Merkle root, e.g. built by the
reference).`,
		Example: `  assay prove proof_pack_trace_20260115T115900_1a2b3c4d mcr_0a1b2c3d4e5f6a7b
  assay prove pack/ r_1a2b3c4d5e6f -o receipt.proof.json`,
		Args: exactArgs(2, "give the pack directory and a receipt id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, data, err := proof.Prove(args[0], args[1])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out == "-" {
				_, err := w.Write(data)
				return err
			}
			if out == "" {
				id := args[1]
				if !safeFileID().MatchString(id) {
					id = "receipt"
				}
				out = "receipt_proof_" + id + ".json"
			}
			if fsutil.IsDir(out) {
				return exit.Bad("give a file name with -o", "%s is a directory", out)
			}
			if !force && fsutil.Exists(out) {
				return exit.Bad("pass --force to replace it, or choose another -o", "%s already exists", out)
			}
			if err := fsutil.WriteFileAtomic(out, data, 0o644); err != nil {
				return exit.Bad("choose a writable -o path", "cannot write %s: %v", out, err)
			}
			if asJSON {
				return writeJSON(w, map[string]any{
					"path": out, "bytes": len(data), "pack_id": p.PackID, "receipt_id": p.ReceiptID,
					"leaf_index": p.Inclusion.LeafIndex, "tree_size": p.Inclusion.TreeSize, "merkle_root": p.Inclusion.Root,
				})
			}
			fmt.Fprintf(w, "%s %s (%d bytes)\n", newStyle(w).Green("receipt proof written:"), out, len(data))
			fmt.Fprintf(w, "  receipt %s is leaf %d of %d under Merkle root %s…\n", p.ReceiptID, p.Inclusion.LeafIndex, p.Inclusion.TreeSize, shortHex(p.Inclusion.Root))
			fmt.Fprintf(w, "  check it: assay verify-receipt %s\n", out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "proof file (default receipt_proof_<receipt_id>.json; '-' for stdout)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&force, "force", false, "replace an existing proof file")
	return c
}
