package verify

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/pack"
)

// FuzzVerifyMutatedPack replaces one kernel file of a good pack with fuzzed
// bytes. The verifier must never panic, and a pack whose signed content
// changed must never verify.
func FuzzVerifyMutatedPack(f *testing.F) {
	base := buildPack(f, sampleReceipts(), nil)
	orig := map[string][]byte{}
	for _, n := range pack.KernelFiles {
		b, err := os.ReadFile(filepath.Join(base, n))
		if err != nil {
			f.Fatal(err)
		}
		orig[n] = b
	}
	origMan, _, _ := pack.ReadManifest(base)
	origSigning, _ := pack.SigningBytes(origMan)
	origRoot := origMan.String("pack_root_sha256")
	for i, n := range pack.KernelFiles {
		b := orig[n]
		f.Add(uint8(i), b)
		if len(b) > 10 {
			m := bytes.Clone(b)
			m[len(m)/2] ^= 1
			f.Add(uint8(i), m)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := pack.KernelFiles[int(which)%len(pack.KernelFiles)]
		dir := t.TempDir()
		for _, n := range pack.KernelFiles {
			if err := os.WriteFile(filepath.Join(dir, n), orig[n], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		var r *Result
		var err error
		done := make(chan struct{})
		go func() { r, err = Verify(dir, Options{Now: fixtureNow}); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("verify did not return for %s = %q", name, data)
		}
		if err != nil {
			return // bad input (an unreadable manifest path), not a verdict
		}
		if r.ExitCode != 0 {
			return
		}
		if name != pack.FileManifest {
			if !bytes.Equal(data, orig[name]) {
				t.Fatalf("%s changed but the pack verified", name)
			}
			return
		}
		man, _, err := pack.ReadManifest(dir)
		if err != nil {
			t.Fatalf("verified a manifest that does not read: %v", err)
		}
		signing, err := pack.SigningBytes(man)
		if err != nil || !bytes.Equal(signing, origSigning) || man.String("pack_root_sha256") != origRoot {
			t.Fatalf("signed manifest content changed but the pack verified")
		}
	})
}
