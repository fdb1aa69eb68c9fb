package tsa

import (
	"crypto/sha256"
	"testing"
)

func FuzzBundleCheck(f *testing.F) {
	f.Add([]byte(`{"witness_type":"rfc3161","token_b64":"MAA=","nonce":1}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := ParseBundle(raw)
		if err != nil {
			return
		}
		d := sha256.Sum256(raw)
		_, _, _ = check(b, d[:], nil)
	})
}
