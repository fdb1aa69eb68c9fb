package proof

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify"
)

// A file swapped between the verification and the proof's reads is
// refused as tampered by the pinned reads (pack.ReadPinned,
// pack.PinnedReceipts), the same check incident replay makes, naming
// the file; no proof is built from it.
func TestProveRefusesFilesSwappedAfterVerification(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file string
		edit func([]byte) []byte
	}{
		// The same receipts, one byte changed in a line.
		{pack.FileReceipts, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"seq":1`, `"seq":7`, 1))
		}},
		// The same report, a byte more.
		{pack.FileReport, func(b []byte) []byte { return append(b, '\n') }},
	} {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			dir := buildPack(t, 3)
			pk, err := pack.OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer pk.Close()
			if vr, err := verify.VerifyPack(pk, verify.Options{IntegrityOnly: true}); err != nil || vr.ExitCode != exit.OK {
				t.Fatalf("verify: %v %+v", err, vr)
			}
			path := filepath.Join(dir, c.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			nb := c.edit(b)
			if string(nb) == string(b) {
				t.Fatal("nothing swapped")
			}
			if err := os.WriteFile(path+".new", nb, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path+".new", path); err != nil {
				t.Fatal(err)
			}
			p, data, err := prove(pk, id(1))
			if p != nil || data != nil || exit.Code(err) != exit.Tampered || !strings.Contains(err.Error(), c.file+" changed after the pack was verified") {
				t.Fatalf("got %v (exit %d)", err, exit.Code(err))
			}
		})
	}
}
