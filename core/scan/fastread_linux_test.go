package scan

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestFastReadOnlyPlainFiles: the openat2 path reads a regular file beneath
// the root, byte for byte, and declines everything readSource decides on
// (links in or out, through a linked directory, FIFOs, files over the cap,
// missing files), so those keep their old outcome.
func TestFastReadOnlyPlainFiles(t *testing.T) {
	t.Parallel()
	root, _ := confineTree(t)
	big := strings.Repeat("x = 1\n", 2000)
	for p, s := range map[string]string{"sub/a.py": callPy, "big.py": big, "empty.py": ""} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"in.py": "app.py", "abs.py": filepath.Join(root, "app.py"),
		"out.py": "../outside/secret.py", "dirlink": "sub", "outdir": "../outside/pkg"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fr := newFastReader(r)
	defer fr.close()
	w := fr.worker()
	for _, tc := range []struct {
		rel  string
		max  int64
		want string // "" with ok false: declined
		ok   bool
	}{
		{"app.py", 0, callPy, true},
		{"sub/a.py", 0, callPy, true},
		{"big.py", 0, big, true},
		{"big.py", int64(len(big)), big, true},
		{"empty.py", 0, "", true},
		{"big.py", int64(len(big)) - 1, "", false},
		{"in.py", 0, "", false},
		{"abs.py", 0, "", false},
		{"out.py", 0, "", false},
		{"dirlink/a.py", 0, "", false},
		{"outdir/mod.py", 0, "", false},
		{"../outside/secret.py", 0, "", false},
		{"fifo.py", 0, "", false},
		{"missing.py", 0, "", false},
		{"sub", 0, "", false},
	} {
		for _, reuse := range []bool{true, false} {
			got, ok := w.read(tc.rel, tc.max, reuse)
			if ok != tc.ok || !bytes.Equal(got, []byte(tc.want)) {
				t.Errorf("%s (max %d, reuse %v): ok %v, %d bytes; want ok %v, %d bytes", tc.rel, tc.max, reuse, ok, len(got), tc.ok, len(tc.want))
			}
		}
	}
}

// TestFastWalkMatchesWalkDir: the getdents walk hands the visit function
// the same paths, in the same order, with the same types as
// fs.WalkDir(root.FS()) does, and honours SkipDir the same way.
func TestFastWalkMatchesWalkDir(t *testing.T) {
	t.Parallel()
	root, _ := confineTree(t)
	for _, p := range []string{"a/b/c.py", "a/b/d.txt", "a/z.go", "b.py", ".hidden/x.py", "skip/y.py", "A/e.ts", "a b/ü.py"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("x = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"a/dirlink": "b", "out": "../outside/pkg", "f.py": "b.py"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "a", "fifo.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	record := func(out *[]string) fs.WalkDirFunc {
		return func(p string, d fs.DirEntry, err error) error {
			*out = append(*out, fmt.Sprintf("%s %v %v %v", p, d.IsDir(), d.Type(), err != nil))
			if d.IsDir() && (d.Name() == "skip" || d.Name() == ".hidden") {
				return fs.SkipDir
			}
			return nil
		}
	}
	var want, got []string
	if err := fs.WalkDir(r.FS(), ".", record(&want)); err != nil {
		t.Fatal(err)
	}
	fr := newFastReader(r)
	defer fr.close()
	ok, err := fr.walk(record(&got))
	if !ok || err != nil {
		t.Fatalf("walk: %v %v", ok, err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk visits\n%s\nfs.WalkDir visits\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
