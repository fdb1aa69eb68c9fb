package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs"
)

func init() { commands = append(commands, newPacksCmd) }

// currentBaseline returns the baseline pack path, or "" when none is set.
func currentBaseline(env *cliEnv) string {
	wd, err := env.Wd()
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
		Use:   "list [DIR | s3://BUCKET/PREFIX/]",
		Short: "List proof packs under -d or a storage URL (found by their manifest, at any name), newest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				dir = args[0]
			}
			var rows []packs.Summary
			var incomplete []string
			if blob.IsURL(dir) {
				l, err := listRemote(cmd.Context(), envOf(cmd).Getenv, dir)
				if err != nil {
					return err
				}
				rows, incomplete = l.Packs, l.Incomplete
				for _, p := range incomplete {
					fmt.Fprintf(cmd.ErrOrStderr(), "assay: %s: pack files but no pack_manifest.json: not a pack (an upload still running, or interrupted)\n", p)
				}
			} else {
				var err error
				if rows, err = packs.List(dir, currentBaseline(envOf(cmd))); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				doc := map[string]any{"directory": dir, "packs": rows, "verified": false, "note": packs.ListNote}
				if incomplete != nil {
					doc["incomplete"] = incomplete
				}
				return writeJSON(w, doc)
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
			d, err := packs.Show(args[0], currentBaseline(envOf(cmd)))
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
	push := &cobra.Command{
		Use:   "push PACK s3://BUCKET/PREFIX/",
		Short: "Publish a local pack to object storage (files first, manifest last; the prefix must be empty)",
		Args:  exactArgs(2, "give the pack directory and the storage URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !blob.IsURL(args[1]) {
				return exit.Bad("give s3://BUCKET/PREFIX/, gs://, azblob:// or file:/// as the destination", "not a storage URL: %s", args[1])
			}
			loc, err := blob.Prepare(cmd.Context(), args[1], blob.Options{Getenv: envOf(cmd).Getenv})
			if err != nil {
				return err
			}
			defer loc.Close()
			pub, err := blob.Publish(cmd.Context(), args[0], loc)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, pub)
			}
			fmt.Fprintf(w, "%s %s (%d objects, %d bytes)\n", newStyle(w).Green("pack published:"), pub.URL, pub.Objects, pub.Bytes)
			return nil
		},
	}
	for _, s := range []*cobra.Command{list, show, pin, push} {
		s.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		c.AddCommand(s)
	}
	return c
}

// listRemote lists the packs under a storage URL.
func listRemote(ctx context.Context, getenv func(string) string, raw string) (*blob.Listing, error) {
	loc, err := blob.Open(ctx, raw, blob.Options{Getenv: getenv})
	if err != nil {
		return nil, err
	}
	defer loc.Close()
	return loc.ListPacks(ctx)
}
