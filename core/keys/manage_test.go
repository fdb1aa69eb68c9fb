package keys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

func TestRotate(t *testing.T) {
	t.Parallel()
	s := Open(t.TempDir())
	if _, err := s.Generate("ci"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 15, 11, 59, 0, 0, time.FixedZone("x", 3600))
	sg, err := s.Rotate("ci", "", at)
	if err != nil || sg.ID != "ci-20260115105900" || !s.Exists("ci") || !s.Exists(sg.ID) {
		t.Fatalf("rotate: %v %+v", err, sg)
	}
	for _, tc := range []struct{ old, new string }{{"ghost", ""}, {"ci", "ci"}, {"ci", sg.ID}, {"../x", ""}, {"ci", ".hidden"}} {
		if _, err := s.Rotate(tc.old, tc.new, at); exit.Code(err) != exit.BadInput {
			t.Errorf("rotate %v: %v", tc, err)
		}
	}
}

func TestExportImportDelete(t *testing.T) {
	t.Parallel()
	a, b := Open(t.TempDir()), Open(t.TempDir())
	sg, _ := a.Generate("ci")
	out := t.TempDir()
	e, err := a.Export("ci", out, true)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(e.KeyPath)
	if st.Mode().Perm() != 0o600 || e.Fingerprint != Fingerprint(sg.Public()) {
		t.Errorf("export: %v %+v", st.Mode(), e)
	}
	// Public first, then the pair completes it under the same id.
	if id, err := b.Import(e.PubPath, "", ""); err != nil || id != "ci" || b.Exists("ci") {
		t.Fatalf("public import: %v %q", err, id)
	}
	if fp, _ := b.FingerprintOf("ci"); fp != e.Fingerprint {
		t.Errorf("fingerprint of public import %s", fp)
	}
	if id, err := b.Import(e.PubPath, e.KeyPath, ""); err != nil || id != "ci" || !b.Exists("ci") {
		t.Fatalf("pair import: %v", err)
	}
	got, _ := b.Load("ci")
	if !got.Private.Equal(sg.Private) {
		t.Error("imported key differs")
	}
	// Idempotent re-import; a different key under the same id is refused.
	if _, err := b.Import(e.PubPath, e.KeyPath, ""); err != nil {
		t.Errorf("re-import: %v", err)
	}
	if _, err := a.Generate("other"); err != nil {
		t.Fatal(err)
	}
	oe, _ := a.Export("other", out, true)
	if _, err := b.Import(oe.PubPath, oe.KeyPath, "ci"); exit.Code(err) != exit.BadInput {
		t.Errorf("clash: %v", err)
	}
	if _, err := b.Import(oe.PubPath, e.KeyPath, "mix"); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched pair: %v", err)
	}
	if ImportID(filepath.Join("x", "a.b.pub.b64")) != "a.b" || ImportID("key.txt") != "key" {
		t.Error("ImportID")
	}
	// Delete clears the active pointer when it names the key.
	if err := b.SetActive("ci"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete("ci"); err != nil || b.Exists("ci") {
		t.Fatalf("delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(b.Dir, ".active_signer")); !os.IsNotExist(err) {
		t.Error(".active_signer left naming a deleted key")
	}
	if err := b.Delete("ci"); exit.Code(err) != exit.BadInput {
		t.Errorf("delete twice: %v", err)
	}
}
