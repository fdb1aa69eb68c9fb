package seal

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

func TestCompareNamesEachAlteration(t *testing.T) {
	t.Parallel()
	sealed := "A\nB\nC\nD\n"
	cases := []struct {
		store string
		kinds []string
	}{
		{"A\nB\nC\nD\n", nil},
		{"A\nB\nC\nD\nE\n", nil}, // past the seal: unsealed, not altered
		{"A\nX\nC\nD\n", []string{"changed"}},
		{"A\nC\nD\n", []string{"removed"}},
		{"B\nA\nC\nD\n", []string{"reordered"}},
		{"A\nX\nB\nC\nD\n", []string{"inserted"}},
		{"A\nB\n", []string{"truncated"}},
		{"", []string{"truncated"}},
	}
	for _, tc := range cases {
		d := Compare(strings.NewReader(sealed), strings.NewReader(tc.store), 4)
		var got []string
		for _, a := range d.Alterations {
			got = append(got, a.Kind)
		}
		if strings.Join(got, ",") != strings.Join(tc.kinds, ",") || d.Total != len(tc.kinds) {
			t.Errorf("store %q: alterations %v (total %d), want %v", tc.store, got, d.Total, tc.kinds)
		}
	}
}

func FuzzCompare(f *testing.F) {
	f.Add([]byte("A\nB\nC\n"), []byte("A\nC\nB\n"), uint8(3))
	f.Add([]byte("A\n\nB"), []byte(""), uint8(9))
	f.Fuzz(func(t *testing.T, sealed, store []byte, n uint8) {
		d := Compare(bytes.NewReader(sealed), bytes.NewReader(store), uint64(n))
		if d.Total < len(d.Alterations) || len(d.Alterations) > MaxListed {
			t.Fatalf("diff %+v", d)
		}
	})
}

// mapOpener serves pack files from memory.
type mapOpener map[string][]byte

func (m mapOpener) open(name string) (io.ReadCloser, error) {
	b, ok := m[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// FuzzCheckPack feeds a verifier hostile seal summaries and files: it
// reports problems, never panics, and never calls a made-up seal verified.
func FuzzCheckPack(f *testing.F) {
	f.Add([]byte(`{"format":"assay.seal/v1","algorithm":"rfc6962-sha256","status":"intact","covers":1,"complete":true,"log":{"path":"_unsigned/seal/log.jsonl"},"checkpoints":{"path":"_unsigned/seal/checkpoints.jsonl"}}`), []byte("{}\n"), []byte("{}\n"))
	f.Add([]byte(`{"certification":{"run_key":"AAAA"}}`), []byte(""), []byte("x"))
	f.Fuzz(func(t *testing.T, summary, log, cps []byte) {
		v, err := canon.Decode(summary)
		if err != nil {
			return
		}
		s, err := ParseSummary(v)
		if err != nil {
			return
		}
		files := mapOpener{PackLog: log, PackCheckpoints: cps, "receipt_pack.jsonl": log}
		r := CheckPack(s, files.open, "trace_x", make([]byte, 32), "receipt_pack.jsonl")
		if r.Verified {
			t.Fatalf("a made-up seal verified: %+v", r)
		}
	})
}
