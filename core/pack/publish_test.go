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
	t.Parallel()
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
			root, name, rel := (*os.Root)(nil), "pack", ""
			if strings.HasPrefix(mode, "staged") {
				// BuildTrace streams the receipt lines into a stage opened
				// through the parent's root before anything else is written.
				st, err := openStage(outDir)
				if err != nil {
					t.Fatal(err)
				}
				defer st.close()
				if err := st.dir.WriteFile(FileReceipts, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				root, name, rel = st.parent, st.name, st.rel
			} else {
				r, err := os.OpenRoot(parent)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				root = r
			}
			swap(t, parent, outside) // as an attacker racing the writer would
			if err := publishIn(root, name, rel, outDir, files, summary); err != nil {
				t.Fatal(err)
			}
			if got := publishedTree(t, outside); got != "" {
				t.Fatalf("written through the link, outside the parent:\n%s", got)
			}
			want := "pack/\npack/_unsigned/\npack/_unsigned/PACK_SUMMARY.md\npack/pack_manifest.json\npack/pack_signature.sig\n"
			if rel != "" {
				want = strings.Replace(want, "pack/pack_signature.sig\n", "pack/pack_signature.sig\npack/receipt_pack.jsonl\n", 1)
			}
			if got := publishedTree(t, parent+".old"); got != want {
				t.Fatalf("the parent that was opened holds:\n%s\nwant\n%s", got, want)
			}
		})
	}

	t.Run("staged: a failed publish leaves neither the stage nor an output", func(t *testing.T) {
		parent, _ := setup(t)
		outDir := filepath.Join(parent, "pack")
		if err := os.Mkdir(outDir, 0o755); err != nil { // the output exists: publishing must fail
			t.Fatal(err)
		}
		st, err := openStage(outDir)
		if err != nil {
			t.Fatal(err)
		}
		if err := publishIn(st.parent, st.name, st.rel, outDir, files, summary); err == nil {
			t.Fatal("published over an existing output")
		}
		st.close()
		if got := publishedTree(t, parent); got != "pack/\n" {
			t.Fatalf("after a failed publish the parent holds:\n%s", got)
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
