package tlog

import (
	"bytes"
	"testing"
)

// The parsers of outside input: a leaf (team log appends), anchor.json and
// its tlog-proof (inside a pack), a witness policy.

func FuzzParseLeaf(f *testing.F) {
	f.Add(Leaf{PackID: "pack_x", PackRootSHA256: string(bytes.Repeat([]byte("a"), 64)), ManifestSHA256: string(bytes.Repeat([]byte("b"), 64))}.Bytes())
	f.Add([]byte("assay-proofpack/v1\npack_id a b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLeaf(b)
		if err != nil {
			return
		}
		// Whatever parses renders back to the same bytes: one leaf, one form.
		if !bytes.Equal(l.Bytes(), b) {
			t.Fatalf("%q parses but renders as %q", b, l.Bytes())
		}
	})
}

func FuzzAnchorVerify(f *testing.F) {
	k, _ := OpenKeys(f.TempDir(), "fuzz.test/log")
	f.Add([]byte(`{"format":"assay.anchor/v1","leaf_format":"assay-proofpack/v1","log_origin":"fuzz.test/log","log_vkey":"`+k.VKey+`","leaf_index":0,"tlog_proof":"c2sp.org/tlog-proof@v1\nindex 0\n\nfuzz.test/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— fuzz.test/log AAAA\n","anchored_at":""}`), []byte("leaf"))
	f.Fuzz(func(t *testing.T, raw, leaf []byte) {
		a, err := ParseAnchor(raw)
		if err != nil {
			return
		}
		_, _ = VerifyProof(a, leaf, VerifyOptions{})
		_, _ = VerifyProof(a, leaf, VerifyOptions{LogKey: k.VKey})
	})
}

func FuzzParsePolicy(f *testing.F) {
	w := newCosigner(f, "w.test/1")
	f.Add([]byte("witness a " + w.vkey + " https://a.example/\ngroup g any a\nquorum g\n"))
	f.Add([]byte("group g 0\nquorum none\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		// A parsed policy never has a group a cosignature-free checkpoint
		// satisfies, unless its quorum is none.
		if p.Quorum != "none" && p.Satisfied(nil) {
			t.Fatalf("policy %q is met with no cosignature", b)
		}
		_ = p.Describe()
	})
}
