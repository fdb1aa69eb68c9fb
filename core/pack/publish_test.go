package pack

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Class: confinement of outputs. A pack is published through one os.Root
// opened on the output's parent: swapping that parent (or a directory on
// the way to it) for a link out of it after the root is open cannot
// redirect a file or the rename, and a staging directory that is no
// longer in the parent (the parent was swapped before publishing) is
// refused with nothing written through the link.
func TestPublishStaysInTheOutputsParent(t *testing.T) {
	files := map[string][]byte{FileManifest: []byte("{}"), FileSignature: []byte("sig")}
	summary := []byte("# summary\n")
	setup := func(t *testing.T) (parent, outside string) {
		base := t.TempDir()
		parent, outside = filepath.Join(base, "out"), filepath.Join(base, "outside")
		for _, d := range []string{parent, outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return parent, outside
	}
	swap := func(t *testing.T, parent, outside string) {
		t.Helper()
		if err := os.Rename(parent, parent+".old"); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, parent); err != nil {
			t.Fatal(err)
		}
	}

	for _, mode := range []string{"in memory (Build)", "staged (BuildTrace)"} {
		t.Run("swapped after the root is open: "+mode, func(t *testing.T) {
			parent, outside := setup(t)
			outDir := filepath.Join(parent, "pack")
			staging := ""
			if strings.HasPrefix(mode, "staged") {
				s, err := newStaging(outDir)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(s, FileReceipts), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				staging = s
			}
			root, err := os.OpenRoot(parent)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			swap(t, parent, outside) // as an attacker racing the writer would
			if err := publishIn(root, "pack", staging, outDir, files, summary); err != nil {
				t.Fatal(err)
			}
			if got := publishedTree(t, outside); got != "" {
				t.Fatalf("written through the link, outside the parent:\n%s", got)
			}
			want := "pack/\npack/_unsigned/\npack/_unsigned/PACK_SUMMARY.md\npack/pack_manifest.json\npack/pack_signature.sig\n"
			if staging != "" {
				want = strings.Replace(want, "pack/pack_signature.sig\n", "pack/pack_signature.sig\npack/receipt_pack.jsonl\n", 1)
			}
			if got := publishedTree(t, parent+".old"); got != want {
				t.Fatalf("the parent that was opened holds:\n%s\nwant\n%s", got, want)
			}
		})
	}

	t.Run("swapped before publishing a staged pack", func(t *testing.T) {
		parent, outside := setup(t)
		outDir := filepath.Join(parent, "pack")
		staging, err := newStaging(outDir)
		if err != nil {
			t.Fatal(err)
		}
		swap(t, parent, outside)
		err = publish(staging, outDir, files, summary)
		if err == nil || !strings.Contains(err.Error(), "staging directory is no longer in") {
			t.Fatalf("publish after the parent was swapped: %v", err)
		}
		if got := publishedTree(t, outside); got != "" {
			t.Fatalf("written through the link, outside the parent:\n%s", got)
		}
	})

	t.Run("a staging name that leaves the parent", func(t *testing.T) {
		parent, outside := setup(t)
		outDir := filepath.Join(parent, "pack")
		if err := os.Symlink(outside, filepath.Join(parent, ".assay_pack_staging_x")); err != nil {
			t.Fatal(err)
		}
		err := publish(filepath.Join(parent, ".assay_pack_staging_x"), outDir, files, summary)
		if err == nil {
			t.Fatal("published through a staging link")
		}
		if got := publishedTree(t, outside); got != "" {
			t.Fatalf("written through the link:\n%s", got)
		}
		if _, err := os.Lstat(outDir); err == nil {
			t.Fatal("the output appeared")
		}
	})
}

// publishedTree lists dir's entries (relative, directories with a trailing slash).
func publishedTree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n") + map[bool]string{true: "", false: "\n"}[len(out) == 0]
}
