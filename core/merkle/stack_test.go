package merkle

import (
	"bytes"
	"fmt"
	"testing"
)

// TestStackMatchesBuilder: the allocation-free path gives Builder's root
// and leaf hashes for every tree size up to 130 (all shapes of the last
// subtrees) and a few larger ones.
func TestStackMatchesBuilder(t *testing.T) {
	t.Parallel()
	lh := NewLeafHasher()
	for _, n := range append(seq(130), 255, 256, 257, 1000, 1025) {
		b := NewBuilder()
		var s Stack
		for i := 0; i < n; i++ {
			line := []byte(fmt.Sprintf(`{"i":%d}`, i))
			b.AddLine(line)
			var h [32]byte
			lh.Sum(&h, line)
			if !bytes.Equal(h[:], LeafHash(line)) {
				t.Fatalf("leaf %d: %x != %x", i, h, LeafHash(line))
			}
			s.AddLeafHash(&h)
		}
		if s.Size() != b.Size() || s.RootHex() != b.RootHex() {
			t.Fatalf("n=%d: stack %d %s, builder %d %s", n, s.Size(), s.RootHex(), b.Size(), b.RootHex())
		}
		// Root does not disturb further appends.
		if s.RootHex() != b.RootHex() {
			t.Fatalf("n=%d: second Root differs", n)
		}
	}
}

func TestStackAllocs(t *testing.T) {
	lh := NewLeafHasher()
	var s Stack
	line := []byte(`{"receipt_id":"r_1"}`)
	var h [32]byte
	if a := testing.AllocsPerRun(1000, func() { lh.Sum(&h, line); s.AddLeafHash(&h) }); a != 0 {
		t.Fatalf("%v allocs per leaf", a)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
