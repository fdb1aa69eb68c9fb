package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/store"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/exit"
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
			src := args[0]
			if blob.IsURL(src) {
				// A pack in storage: fetched (bounded) into a private
				// temp directory, then bundled like a local one.
				dir, cleanup, err := fetchPack(cmd.Context(), src)
				if err != nil {
					return err
				}
				defer cleanup()
				src = dir
			}
			if blob.IsURL(out) {
				r, err := bundleToStorage(cmd.Context(), src, out)
				if err != nil {
					return err
				}
				return renderBundle(cmd, r, asJSON)
			}
			target := out
			if target == "" {
				if man, _, err := pack.ReadManifest(src); err == nil {
					target = bundle.DefaultName(man.String("pack_id"))
				}
			}
			if target != "" && !force && fsutil.Exists(target) {
				return exit.Bad("pass --force to replace it, or choose another -o", "%s already exists", target)
			}
			r, err := bundle.Create(src, out)
			if err != nil {
				return err
			}
			return renderBundle(cmd, r, asJSON)
		},
	}
	b.Flags().StringVarP(&out, "output", "o", "", "bundle file (default audit_bundle_<pack_id>.tar.gz), or a storage URL: s3://BUCKET/PREFIX/ (default name) or s3://BUCKET/KEY.tar.gz")
	b.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	b.Flags().BoolVar(&force, "force", false, "replace an existing bundle file")
	c.AddCommand(b)
	return c
}

// renderBundle prints what 'audit bundle' wrote.
func renderBundle(cmd *cobra.Command, r *bundle.Result, asJSON bool) error {
	w := cmd.OutOrStdout()
	if asJSON {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "%s %s (%d bytes, %d files)\n", newStyle(w).Green("audit bundle written:"), r.Path, r.Bytes, len(r.Files))
	fmt.Fprintf(w, "  pack %s, verdict at bundle time %s\n", r.PackID, r.Verdict)
	if blob.IsURL(r.Path) {
		fmt.Fprintf(w, "  check it: assay verify-pack '%s'\n", r.Path)
		return nil
	}
	fmt.Fprintf(w, "  check it: assay verify-pack %s\n", r.Path)
	return nil
}

// fetchPack downloads the pack at a storage URL into a temp directory.
func fetchPack(ctx context.Context, raw string) (string, func(), error) {
	loc, err := blob.Open(ctx, raw, blob.Options{})
	if err != nil {
		return "", nil, err
	}
	defer loc.Close()
	tmp, err := os.MkdirTemp("", "assay-remote-")
	if err != nil {
		return "", nil, exit.Bad("check $TMPDIR", "cannot create a temporary directory: %v", err)
	}
	dir := filepath.Join(tmp, "pack")
	if err := os.Mkdir(dir, 0o700); err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	if err := loc.Fetch(ctx, dir); err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(tmp) }, nil
}

// bundleToStorage writes the bundle of the pack in dir to a local outbox,
// then uploads it as one object (never replacing one); a failed upload
// keeps the local bundle and says where.
func bundleToStorage(ctx context.Context, dir, raw string) (*bundle.Result, error) {
	base := strings.SplitN(raw, "?", 2)
	lower := strings.ToLower(base[0])
	if !strings.HasSuffix(lower, ".tar.gz") && !strings.HasSuffix(lower, ".tgz") {
		man, _, err := pack.ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		base[0] = strings.TrimSuffix(base[0], "/") + "/" + bundle.DefaultName(man.String("pack_id"))
		raw = strings.Join(base, "?")
	}
	p, key, err := blob.ParseObject(raw)
	if err != nil {
		return nil, err
	}
	loc, err := blob.OpenParsed(ctx, p, blob.Options{Create: true})
	if err != nil {
		return nil, err
	}
	defer loc.Close()
	if ok, err := loc.Bucket.Exists(ctx, key); err != nil {
		return nil, blob.Err(err, nil, "read "+loc.Join(key))
	} else if ok {
		return nil, exit.Bad("choose a new name; bundles are never overwritten", "%s already exists", loc.Join(key))
	}
	home, err := store.Home()
	if err != nil {
		return nil, err
	}
	box, err := blob.Outbox(home)
	if err != nil {
		return nil, err
	}
	local := filepath.Join(box, key)
	r, err := bundle.Create(dir, local)
	if err != nil {
		os.RemoveAll(box)
		return nil, err
	}
	if _, err := loc.PutObject(ctx, local, key); err != nil {
		return nil, blob.Kept(err, "upload to "+loc.Join(key)+" failed", local, "upload that file to the bucket yourself, or run 'assay audit bundle' again")
	}
	os.RemoveAll(box)
	r.Path = raw
	return r, nil
}
