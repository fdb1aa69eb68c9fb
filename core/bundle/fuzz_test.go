package bundle

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

// FuzzExtract feeds Extract arbitrary archives: it must never panic, never
// write outside the destination, and keep nothing when it refuses.
func FuzzExtract(f *testing.F) {
	seeds := [][]entry{
		{{hdr: tar.Header{Name: "pack_manifest.json"}, data: "{}"}, {hdr: tar.Header{Name: "_unsigned/a"}, data: "x"}},
		{{hdr: tar.Header{Name: "../x"}, data: "escaped"}},
		{{hdr: tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}},
	}
	for _, s := range seeds {
		p := writeTgzF(f, s)
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		src := filepath.Join(parent, "in.tar.gz")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(parent, "dest")
		err := ExtractWithLimits(src, dest, Limits{MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxEntries: 100})
		ents, _ := os.ReadDir(parent)
		if len(ents) != 2 {
			t.Fatalf("wrote outside the destination: %d entries next to it", len(ents))
		}
		if err != nil {
			if exit.Code(err) != exit.BadInput {
				t.Fatalf("exit %d: %v", exit.Code(err), err)
			}
			if kept, _ := os.ReadDir(dest); len(kept) != 0 {
				t.Fatalf("kept %d entries of a refused archive", len(kept))
			}
			return
		}
		// Whatever was extracted is regular files and directories only.
		filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && !info.Mode().IsRegular() {
				t.Fatalf("extracted a non-regular file %s", p)
			}
			return nil
		})
	})
}
