package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// A pack with a file linking out of it is never bundled: refused with
// exit 3 before anything is read, no bundle written, the outside content
// nowhere in the error.
func TestCreateRefusesLinksOutOfThePack(t *testing.T) {
	t.Parallel()
	src := buildPack(t)
	for _, c := range packstest.LinkCases() {
		t.Run(c.Name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "pack")
			packstest.Copy(t, src, dir)
			c.Make(t, dir, filepath.Join(base, "outside"))
			out := filepath.Join(base, "b.tar.gz")
			_, err := Create(dir, out)
			if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), packstest.Marker) {
				t.Fatalf("Create: %v (exit %d)", err, exit.Code(err))
			}
			if fsutil.Exists(out) {
				t.Fatal("a bundle was written")
			}
		})
	}
}

// CreateIn writes inside its root only: an output directory swapped for a
// link out of the root is refused and nothing lands outside; an existing
// output is never replaced.
func TestCreateInStaysInTheRoot(t *testing.T) {
	t.Parallel()
	src := buildPack(t)
	base := t.TempDir()
	rootDir, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{rootDir, outside, filepath.Join(rootDir, "out")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	r, err := CreateIn(src, root, filepath.Join("out", "b.tar.gz"))
	if err != nil || r.Path != filepath.Join(rootDir, "out", "b.tar.gz") {
		t.Fatalf("CreateIn: %+v, %v", r, err)
	}
	if _, err := CreateIn(src, root, filepath.Join("out", "b.tar.gz")); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("existing output: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(rootDir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(rootDir, "out")); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateIn(src, root, filepath.Join("out", "c.tar.gz")); exit.Code(err) != exit.BadInput {
		t.Fatalf("output through a link out of the root: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written outside the root: %v", ents)
	}
}

// A FIFO given as a bundle is refused without being opened for a blocking
// read (this test would hang), by IsBundle and by Extract.
func TestBundleFIFORefused(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if IsBundle(fifo) {
		t.Fatal("a FIFO is a bundle")
	}
	dest := filepath.Join(t.TempDir(), "x")
	if err := Extract(fifo, dest); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Extract: %v", err)
	}
}
