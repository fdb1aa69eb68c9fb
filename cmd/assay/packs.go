package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs"
)

func init() { commands = append(commands, newPacksCmd) }

// currentBaseline returns the baseline pack path, or "" when none is set.
func currentBaseline() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	b, err := packs.GetBaseline(wd)
	if err != nil {
		return ""
	}
	return b.PackPath
}

func newPacksCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "packs",
		Short:   "List proof packs in a directory, or show one (reads manifests; verifies nothing)",
		GroupID: "evidence",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit.Bad("use 'assay packs list [-d DIR]' or 'assay packs show DIR'", "packs needs a subcommand")
		},
	}
	var asJSON bool
	var dir string
	list := &cobra.Command{
		Use:   "list",
		Short: "List proof packs under -d (found by their manifest, at any name), newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := packs.List(dir, currentBaseline())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, map[string]any{"directory": dir, "packs": rows, "verified": false, "note": packs.ListNote})
			}
			if len(rows) == 0 {
				fmt.Fprintf(w, "no proof packs in %s\n", dir)
				return nil
			}
			st := newStyle(w)
			// The PACK column is as wide as the longest name (default pack
			// names are 41 characters), padded on the plain text so colour
			// codes do not shift the columns.
			const mark = " (baseline)"
			width := len("PACK")
			for _, r := range rows {
				n := len(r.Path)
				if r.IsBaseline {
					n += len(mark)
				}
				width = max(width, n)
			}
			fmt.Fprintf(w, "%-*s %-9s %-9s %-6s %-16s %s\n", width, "PACK", "RECEIPTS", "INTEGRITY", "CLAIMS", "SIGNER", "STARTED")
			for _, r := range rows {
				name, plain := r.Path, r.Path
				if r.IsBaseline {
					name += " " + st.Bold("(baseline)")
					plain += mark
				}
				name += strings.Repeat(" ", width-len(plain))
				if r.Error != "" {
					fmt.Fprintf(w, "%s %s\n", name, st.Red("unreadable: "+r.Error))
					continue
				}
				fmt.Fprintf(w, "%s %-9d %-9s %-6s %-16s %s\n", name, r.NReceipts, r.ReceiptIntegrity, r.ClaimCheck, r.SignerID, r.TimestampStart)
			}
			fmt.Fprintf(w, "%s\n", st.Dim(packs.ListNote))
			return nil
		},
	}
	list.Flags().StringVarP(&dir, "dir", "d", ".", "directory to scan")
	show := &cobra.Command{
		Use:   "show DIR",
		Short: "Show a pack's manifest fields, line count and files",
		Args:  exactArgs(1, "give the pack directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := packs.Show(args[0], currentBaseline())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, d)
			}
			row := func(k string, v any) { fmt.Fprintf(w, "  %-20s %v\n", k, v) }
			fmt.Fprintf(w, "%s%s\n", d.Path, map[bool]string{true: " (baseline)", false: ""}[d.IsBaseline])
			fmt.Fprintf(w, "  %s\n", newStyle(w).Yellow(d.Note))
			row("Pack ID", d.PackID)
			row("Run", d.RunID)
			row("Format", d.PackFormatVersion)
			row("Mode", d.Mode)
			row("Receipts (signed)", d.NReceipts)
			row("Lines on disk", d.LinesOnDisk)
			row("Receipt integrity", d.ReceiptIntegrity)
			row("Claim check", d.ClaimCheck)
			row("Claim set hash", d.ClaimSetHash)
			row("Time span", d.TimestampStart+" to "+d.TimestampEnd)
			row("Signer", d.SignerID)
			row("Fingerprint", d.SignerFingerprint)
			row("Built by", d.VerifierVersion)
			row("Pack root", d.PackRootSHA256)
			fmt.Fprintln(w, "\n  Files:")
			for _, f := range d.Files {
				h := "(not hash-covered)"
				if f.InManifest {
					h = "sha256 " + shortHex(f.ManifestHash) + "…"
				}
				fmt.Fprintf(w, "    %-32s %10d  %s\n", f.Path, f.Bytes, h)
			}
			for _, m := range d.ManifestOnlyFiles {
				fmt.Fprintf(w, "    %-32s %10s  %s\n", m, "-", newStyle(w).Red("MISSING (listed in the manifest)"))
			}
			if d.LinesOnDisk != d.NReceipts {
				fmt.Fprintf(w, "\n  %s the manifest says %d receipts, the file has %d lines; run 'assay verify-pack'\n", newStyle(w).Yellow("note:"), d.NReceipts, d.LinesOnDisk)
			}
			return nil
		},
	}
	pin := &cobra.Command{
		Use:   "pin-baseline DIR",
		Short: "Record DIR as the baseline (same as 'assay baseline set')",
		Args:  exactArgs(1, "give the pack directory"),
		RunE:  func(cmd *cobra.Command, args []string) error { return setBaseline(cmd, args[0], asJSON) },
	}
	for _, s := range []*cobra.Command{list, show, pin} {
		s.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		c.AddCommand(s)
	}
	return c
}
