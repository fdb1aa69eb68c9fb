package packs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
)

func TestCountLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for content, want := range map[string]int64{"": 0, "a\n": 1, "a\nb\n": 2, "a\nb": 2, "\n\n": 2} {
		p := filepath.Join(dir, "f")
		os.WriteFile(p, []byte(content), 0o644)
		if n, err := CountLines(p); err != nil || n != want {
			t.Errorf("%q: %d %v, want %d", content, n, err, want)
		}
	}
	if _, err := CountLines(filepath.Join(dir, "none")); err == nil {
		t.Error("missing file counted")
	}
}

func setMtime(t *testing.T, p string, ago time.Duration) {
	t.Helper()
	tm := time.Now().Add(-ago)
	if err := os.Chtimes(p, tm, tm); err != nil {
		t.Fatal(err)
	}
}

func TestPrevious(t *testing.T) {
	t.Parallel()
	wd, dir := t.TempDir(), t.TempDir()
	old := packstest.DiffFixture(t, dir, "base")
	mid := packstest.DiffFixture(t, dir, "same")
	newest := packstest.DiffFixture(t, dir, "errors")
	setMtime(t, old, 3*time.Hour)
	setMtime(t, mid, 2*time.Hour)
	setMtime(t, newest, time.Hour)
	// A directory that is not a pack, and a non-pack name, are ignored.
	os.MkdirAll(filepath.Join(dir, "proof_pack_junk"), 0o755)
	packstest.Copy(t, old, filepath.Join(dir, "other_name"))

	for _, c := range []struct{ pack, want string }{
		{newest, mid}, // the newest sibling not newer than the pack
		{mid, old},
		{old, newest}, // nothing older: the newest sibling
	} {
		got, err := Previous(wd, c.pack)
		if err != nil || got != c.want {
			t.Errorf("Previous(%s) = %s, %v; want %s", filepath.Base(c.pack), got, err, c.want)
		}
	}
	// The baseline wins, unless it is the pack itself.
	if _, err := SetBaseline(wd, old); err != nil {
		t.Fatal(err)
	}
	if got, _ := Previous(wd, newest); got != old {
		t.Errorf("baseline ignored: %s", got)
	}
	if got, _ := Previous(wd, old); got != newest {
		t.Errorf("baseline compared with itself: %s", got)
	}
	// A baseline recorded relative to the working directory (as the
	// reference may write it) resolves against it.
	rel, _ := filepath.Rel(wd, mid)
	os.WriteFile(BaselinePath(wd), []byte(`{"pack_path": "`+rel+`"}`), 0o644)
	if b, err := GetBaseline(wd); err != nil || b.PackPath != filepath.Join(wd, rel) {
		t.Errorf("relative baseline: %+v %v", b, err)
	}
	// A baseline that no longer exists is bad input.
	os.WriteFile(BaselinePath(wd), []byte(`{"pack_path": "/nonexistent/proof_pack_x"}`), 0o644)
	if _, err := Previous(wd, newest); exit.Code(err) != exit.BadInput {
		t.Errorf("stale baseline: %v", err)
	}
	// No baseline and no sibling.
	os.Remove(BaselinePath(wd))
	lone := filepath.Join(t.TempDir(), "proof_pack_lone")
	packstest.Copy(t, old, lone)
	if _, err := Previous(wd, lone); exit.Code(err) != exit.BadInput {
		t.Errorf("lone: %v", err)
	}
}

func TestListAndShow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := packstest.DiffFixture(t, dir, "base")
	b := packstest.DiffFixture(t, dir, "claim_regression")
	setMtime(t, a, time.Hour)
	// A pack whose manifest is broken is still listed, with its error.
	broken := filepath.Join(dir, "proof_pack_broken")
	packstest.Copy(t, a, broken)
	os.WriteFile(filepath.Join(broken, "pack_manifest.json"), []byte("{"), 0o644)
	setMtime(t, broken, 2*time.Hour)

	rows, err := List(dir, a)
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v %+v", err, rows)
	}
	if rows[0].Path != b || rows[0].ClaimCheck != "FAIL" || rows[0].NReceipts != 11 || rows[0].SignerID != "packstest" {
		t.Errorf("row 0 %+v", rows[0])
	}
	if rows[1].Path != a || !rows[1].IsBaseline || rows[2].Path != broken || rows[2].Error == "" {
		t.Errorf("rows %+v", rows)
	}
	d, err := Show(b, "")
	if err != nil || d.NReceipts != 11 || d.LinesOnDisk != 11 || d.ClaimCheck != "FAIL" || len(d.ManifestOnlyFiles) != 0 {
		t.Fatalf("%v %+v", err, d)
	}
	// show never verifies, and says so.
	if d.Verified || d.Note != UnverifiedNote {
		t.Fatalf("show: verified %v note %q", d.Verified, d.Note)
	}
	// A file the manifest lists but the disk lacks is reported.
	os.Remove(filepath.Join(b, "verify_transcript.md"))
	d, _ = Show(b, "")
	if len(d.ManifestOnlyFiles) != 1 || d.ManifestOnlyFiles[0] != "verify_transcript.md" {
		t.Fatalf("missing files %v", d.ManifestOnlyFiles)
	}
	if _, err := Show(broken, ""); exit.Code(err) != exit.Tampered {
		t.Errorf("broken manifest: %v", err)
	}
	for _, p := range []string{filepath.Join(dir, "nope"), t.TempDir(), filepath.Join(a, "receipt_pack.jsonl")} {
		if _, err := Show(p, ""); exit.Code(err) != exit.BadInput {
			t.Errorf("Show(%s): %v", p, err)
		}
	}
	if _, err := List(filepath.Join(dir, "nope"), ""); exit.Code(err) != exit.BadInput {
		t.Error("List of a missing dir")
	}
}
