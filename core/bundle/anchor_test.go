package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/tlog/anchortest"
)

// A bundle of an anchored pack carries the anchor, and its instructions name
// the log, the entry and the key to pin, with the command that checks them.
func TestBundleCarriesAnchorAndHowToCheckIt(t *testing.T) {
	t.Parallel()
	dir := buildPack(t)
	anchortest.Anchor(t, dir, t.TempDir(), "assay.test/bundle-log")
	anchor, err := tlog.ReadAnchor(dir)
	if err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := Create(dir, out); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "x")
	if err := Extract(out, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.VerifyAnchor(dest, tlog.VerifyOptions{LogKey: anchor.LogVKey}); err != nil {
		t.Fatalf("the bundled pack's anchor does not verify under the log's key: %v", err)
	}
	instr, err := os.ReadFile(filepath.Join(dest, FileInstructions))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Transparency-log anchor", "assay.test/bundle-log", anchor.LogVKey, "--require-anchor --log-key"} {
		if !strings.Contains(string(instr), want) {
			t.Fatalf("VERIFY_INSTRUCTIONS.md lacks %q:\n%s", want, instr)
		}
	}

	// Without an anchor, the instructions say nothing about one.
	plain := buildPack(t)
	out2 := filepath.Join(t.TempDir(), "b2.tar.gz")
	if _, err := Create(plain, out2); err != nil {
		t.Fatal(err)
	}
	dest2 := filepath.Join(t.TempDir(), "y")
	if err := Extract(out2, dest2); err != nil {
		t.Fatal(err)
	}
	instr2, _ := os.ReadFile(filepath.Join(dest2, FileInstructions))
	if strings.Contains(string(instr2), "Transparency-log anchor") {
		t.Fatal("instructions of an unanchored pack mention an anchor")
	}
}
