package otlpout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// A pack source exports the receipts of the pack it verified: the typed
// manifest's ids, every receipt; a receipt file swapped after the
// verification is refused as tampered (exit 2), never exported; a pack
// that does not verify is refused before anything is read.
func TestFromPackExportsOnlyVerifiedReceipts(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "p")
	res := packstest.Build(t, dir, packstest.Generic(3), nil)
	count := func(src Source) (int, error) {
		n := 0
		err := src.Each(func(*canon.Object) error { n++; return nil })
		return n, err
	}
	for _, open := range []func(string) (Source, error){FromPack, ReadPack} {
		src, err := open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := count(src); err != nil || n != 3 || src.Context.PackID != res.PackID || src.Context.PackRootSHA256 == "" || src.Context.TraceID == "" {
			t.Fatalf("honest pack: %d receipts, %v, context %+v", n, err, src.Context)
		}
		src.Close()
	}

	src, err := FromPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := filepath.Join(dir, pack.FileReceipts)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(p+".new", []byte(lines[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	if n, err := count(src); exit.Code(err) != exit.Tampered || !strings.Contains(err.Error(), "changed after the pack was verified") {
		t.Fatalf("swapped receipts: %d exported, %v", n, err)
	}
	// The pack no longer verifies: refused before anything is read.
	if _, err := FromPack(dir); exit.Code(err) != exit.Tampered {
		t.Fatalf("tampered pack: %v", err)
	}
}
