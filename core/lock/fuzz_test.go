package lock

import "testing"

// FuzzParse: any bytes either fail to parse or give a lock that Check and
// Compare handle without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"lock_version":"1.0","run_cards":[{"id":"no_breakglass"}],"signer_policy":{"mode":"allowlist","allowed_fingerprints":["x"]}}`))
	f.Add([]byte(`{"exit_contract":null,"run_cards":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		_ = Validate(l)
		_ = Compare(l, Manifest{PackFormatVersion: "0.1.0", ClaimSetHash: "ab", SignerPubkeySHA256: ""})
	})
}
