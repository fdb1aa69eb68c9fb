package proof

import (
	"testing"

	"github.com/assay-dev/assay/core/pack"
)

// BenchmarkProve100k measures building one proof in a 100000-receipt pack
// (hashing every line; the pack verification Prove also runs is excluded).
//
//	go test ./core/proof -run '^$' -bench . -benchtime 5x
func BenchmarkProve100k(b *testing.B) {
	dir := bigPack(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := proveDir(dir, id(50000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck100k measures checking one proof from that pack offline.
func BenchmarkCheck100k(b *testing.B) {
	dir := bigPack(b)
	_, data, err := proveDir(dir, id(50000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := Check(data); !r.OK {
			b.Fatal(r.Errors)
		}
	}
}

// proveDir builds a proof from the pack in dir without verifying it again.
func proveDir(dir, receiptID string) (*Proof, []byte, error) {
	pk, err := pack.OpenDir(dir)
	if err != nil {
		return nil, nil, err
	}
	defer pk.Close()
	return prove(pk, receiptID)
}
