package packs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// Packs are found by manifest at any name (run -o, demo dirs, .assay/mcp),
// newest first; dependency trees, other hidden dirs, directory links and
// directories inside a pack are not searched.
func TestFindByManifest(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	src := packstest.DiffFixture(t, t.TempDir(), "base")
	place := func(rel string, ago time.Duration) string {
		p := filepath.Join(root, rel)
		packstest.Copy(t, src, p)
		setMtime(t, p, ago)
		return p
	}
	runPack := place("pack", 5*time.Hour)
	demo := place("incident/proof_pack_fail", 4*time.Hour)
	mcp := place(".assay/mcp/packs/proof_pack_s1", 3*time.Hour)
	newest := place("evidence/x", time.Hour)
	place("node_modules/lib/pack", 0)
	place(".cache/pack", 0)
	place("a/b/c/d/too_deep", 0)
	place("pack/_unsigned/inner", 0) // inside a pack
	os.Symlink(newest, filepath.Join(root, "link_to_pack"))
	setMtime(t, runPack, 5*time.Hour) // the inner copy touched it

	found, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.Path)
	}
	want := []string{newest, mcp, demo, runPack}
	if len(got) != len(want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("found %v, want %v", got, want)
		}
	}
	if l, err := Latest(root); err != nil || l != newest {
		t.Errorf("Latest = %s, %v", l, err)
	}
	// The root itself may be the pack.
	if l, err := Latest(runPack); err != nil || l != runPack {
		t.Errorf("Latest(pack) = %s, %v", l, err)
	}
	// A manifest that is a link still marks a pack (never hidden; its
	// readers refuse the link).
	fake := filepath.Join(root, "fake")
	os.MkdirAll(fake, 0o755)
	os.Symlink(filepath.Join(runPack, manifestName), filepath.Join(fake, manifestName))
	if found2, _ := Find(fake); len(found2) != 1 {
		t.Errorf("linked manifest hidden: %v", found2)
	}
	empty := t.TempDir()
	if _, err := Latest(empty); exit.Code(err) != exit.BadInput {
		t.Errorf("no pack: %v", err)
	}
	for _, bad := range []string{filepath.Join(root, "nope"), filepath.Join(runPack, manifestName)} {
		if _, err := Find(bad); exit.Code(err) != exit.BadInput {
			t.Errorf("Find(%s): %v", bad, err)
		}
	}
}
