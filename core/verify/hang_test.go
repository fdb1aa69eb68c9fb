package verify

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/pack"
)

// TestNoHangOnMutations runs the parallel receipt pass over 1000 randomly
// mutated packs (flipped bytes, truncations, appended garbage): every
// verification must return.
func TestNoHangOnMutations(t *testing.T) {
	t.Parallel()
	base := buildPack(t, sampleReceipts(), nil)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 1000; i++ {
		name := pack.KernelFiles[rng.Intn(len(pack.KernelFiles))]
		dir := t.TempDir()
		for _, n := range pack.KernelFiles {
			b, _ := os.ReadFile(filepath.Join(base, n))
			if n == name {
				switch rng.Intn(3) {
				case 0:
					if len(b) > 0 {
						b[rng.Intn(len(b))] = byte(rng.Intn(256))
					}
				case 1:
					b = b[:rng.Intn(len(b)+1)]
				case 2:
					extra := make([]byte, rng.Intn(50))
					rng.Read(extra)
					b = append(b, extra...)
				}
			}
			os.WriteFile(filepath.Join(dir, n), b, 0o644)
		}
		done := make(chan struct{})
		go func() { Verify(dir, Options{Now: fixtureNow}); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			b, _ := os.ReadFile(filepath.Join(dir, name))
			t.Fatalf("hang on mutation %d of %s: %q", i, name, b)
		}
	}
}
