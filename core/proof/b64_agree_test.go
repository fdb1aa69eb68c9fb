package proof

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/verify"
	"github.com/assay-dev/assay/core/verify/verifytest"
)

// prove and verify-pack decode the manifest's base64 one way (issue 13):
// a signer_pubkey spelled with a line break or non-zero padding bits
// decodes, leniently, to the very key that signed, yet both refuse it; and
// the canonical spelling passes both.
func TestProveAndVerifyAgreeOnBase64(t *testing.T) {
	t.Parallel()
	pub := base64.StdEncoding.EncodeToString(verifytest.Attacker.Public())
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	bits := []byte(pub)
	bits[len(bits)-2] = alphabet[strings.IndexByte(alphabet, bits[len(bits)-2])^1]
	for name, val := range map[string]string{
		"canonical":    pub,
		"line break":   pub[:20] + "\n" + pub[20:],
		"padding bits": string(bits),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pack")
			if err := verifytest.Build(dir, 3, verifytest.Attacker); err != nil {
				t.Fatal(err)
			}
			if err := verifytest.Reseal(dir, verifytest.Attacker, func(man, _ *canon.Object) { man.Set("signer_pubkey", val) }); err != nil {
				t.Fatal(err)
			}
			r, err := verify.Verify(dir, verify.Options{Now: verifytest.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, _, perr := Prove(dir, "r000001")
			want := exit.Tampered
			if name == "canonical" {
				want = exit.OK
			}
			if r.ExitCode != want || exit.Code(perr) != want {
				t.Fatalf("verify-pack exit %d, prove exit %d (%v); want both %d", r.ExitCode, exit.Code(perr), perr, want)
			}
		})
	}
}
