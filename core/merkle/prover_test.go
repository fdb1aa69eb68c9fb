package merkle

import (
	"bytes"
	"fmt"
	"testing"
)

// The one-pass Prover gives InclusionProof's path and Builder's root for
// every leaf of every tree up to 70 leaves, and the path verifies.
func TestProverMatchesInclusionProof(t *testing.T) {
	t.Parallel()
	for n := uint64(1); n <= 70; n++ {
		var hashes [][]byte
		for i := uint64(0); i < n; i++ {
			hashes = append(hashes, LeafHash([]byte(fmt.Sprint("leaf", i))))
		}
		b := NewBuilder()
		for _, h := range hashes {
			b.AddLeafHash(h)
		}
		for m := uint64(0); m < n; m++ {
			p := NewProver(n)
			for i, h := range hashes {
				var a [32]byte
				copy(a[:], h)
				p.Add(&a, uint64(i) == m)
			}
			got, err := p.Path()
			if err != nil {
				t.Fatalf("n=%d m=%d: %v", n, m, err)
			}
			want, _ := InclusionProof(hashes, m)
			if len(got) != len(want) {
				t.Fatalf("n=%d m=%d: %d nodes, want %d", n, m, len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("n=%d m=%d: node %d differs", n, m, i)
				}
			}
			if !bytes.Equal(p.Root(), b.Root()) {
				t.Fatalf("n=%d: root differs", n)
			}
			if err := VerifyInclusion(m, n, hashes[m], got, p.Root()); err != nil {
				t.Fatalf("n=%d m=%d: %v", n, m, err)
			}
		}
	}
}

// A wrong expected size, or no marked leaf, is an error, not a bad path.
func TestProverErrors(t *testing.T) {
	t.Parallel()
	var h [32]byte
	p := NewProver(3)
	p.Add(&h, true)
	p.Add(&h, false)
	if _, err := p.Path(); err == nil {
		t.Fatal("short tree gave a path")
	}
	p = NewProver(1)
	p.Add(&h, false)
	if _, err := p.Path(); err == nil {
		t.Fatal("no marked leaf gave a path")
	}
}
