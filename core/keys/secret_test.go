package keys

import (
	"strings"
	"testing"
)

func TestSecretRoundTrip(t *testing.T) {
	t.Parallel()
	src, dst := Open(t.TempDir()), Open(t.TempDir())
	sg, err := src.Generate("team")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := src.Secret("team")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := ParseSecret("  "+sec+"\n", "ASSAY_SIGNING_KEY")
	if err != nil {
		t.Fatal(err)
	}
	id, err := dst.ImportSeed("", seed)
	if err != nil {
		t.Fatal(err)
	}
	fp := Fingerprint(sg.Public())
	if id != "imported-"+fp[:12] {
		t.Errorf("default id %q", id)
	}
	if got, _ := dst.FingerprintOf(id); got != fp {
		t.Errorf("imported fingerprint %s, want %s", got, fp)
	}
	if again, err := dst.ImportSeed(id, seed); err != nil || again != id {
		t.Errorf("re-import: %q %v", again, err)
	}
	other, _ := src.Generate("other")
	if _, err := dst.ImportSeed(id, other.Private.Seed()); err == nil || !strings.Contains(err.Error(), "different key") {
		t.Errorf("different key under the same id: %v", err)
	}
	for _, bad := range []string{"", "   ", "not base64!", "AAAA"} {
		_, err := ParseSecret(bad, "ASSAY_SIGNING_KEY")
		if err == nil || !strings.Contains(err.Error(), "ASSAY_SIGNING_KEY") || (len(bad) > 3 && strings.Contains(err.Error(), bad)) {
			t.Errorf("ParseSecret(%q): %v", bad, err)
		}
	}
}
