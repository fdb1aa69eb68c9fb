package merkle

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
)

// Known RFC 6962 roots (from the certificate-transparency test data) for the
// first leaves of the standard test vector.
func TestRFC6962KnownRoots(t *testing.T) {
	t.Parallel()
	leaves := [][]byte{
		{}, {0x00}, {0x10}, {0x20, 0x21}, {0x30, 0x31}, {0x40, 0x41, 0x42, 0x43},
		{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57}, {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f},
	}
	want := []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	b := NewBuilder()
	for i, l := range leaves {
		b.AddLine(l)
		if got := b.RootHex(); got != want[i] {
			t.Fatalf("root after %d leaves: %s want %s", i+1, got, want[i])
		}
	}
	if hex.EncodeToString(NewBuilder().Root()) != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatal("empty root")
	}
}

func TestInclusionRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 33} {
		var hs [][]byte
		b := NewBuilder()
		for i := 0; i < n; i++ {
			h := LeafHash([]byte(fmt.Sprintf(`{"receipt_id":"r%d"}`, i)))
			hs = append(hs, h)
			b.AddLeafHash(h)
		}
		root := b.Root()
		for i := 0; i < n; i++ {
			p, err := InclusionProof(hs, uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(uint64(i), uint64(n), hs[i], p, root); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			if n > 1 {
				bad := bytes.Clone(hs[(i+1)%n])
				if err := VerifyInclusion(uint64(i), uint64(n), bad, p, root); err == nil {
					t.Fatalf("n=%d i=%d: wrong leaf verified", n, i)
				}
			}
		}
	}
}
