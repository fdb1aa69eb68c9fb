package proof

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/packs/packstest"
)

// FuzzCheck feeds Check arbitrary bytes around a real proof: it must never
// panic, must always give exit 0, 2 or 3 with an error for anything but
// success, and nothing other than the genuine proof may verify (forging
// one would need the signer's key).
func FuzzCheck(f *testing.F) {
	// A deterministic pack, so every fuzz worker process derives the same
	// genuine proof.
	dir := filepath.Join(f.TempDir(), "proof_pack_fuzz")
	packstest.BuildDeterministic(f, dir, packstest.Generic(3), nil)
	_, genuine, err := Prove(dir, id(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(genuine)
	f.Add([]byte(`{"format":"assay.receipt_proof.v1"}`))
	f.Add([]byte(`{}`))
	f.Add(genuine[:len(genuine)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Check(data)
		switch {
		case r.OK:
			if r.ExitCode != 0 || !bytes.Equal(data, genuine) {
				t.Fatalf("a proof other than the genuine one verified (exit %d)", r.ExitCode)
			}
		case r.ExitCode != 2 && r.ExitCode != 3:
			t.Fatalf("exit %d", r.ExitCode)
		case len(r.Errors) == 0:
			t.Fatal("failure without an error")
		}
	})
}
