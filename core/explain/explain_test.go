package explain

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/packs/packstest"
)

func fixture(t *testing.T) string {
	return packstest.DiffFixture(t, t.TempDir(), "claim_regression")
}

// A bundle is explained as fully as its pack: models and claim results
// come from the extracted receipts and report.
func TestBundleExplainedLikeItsPack(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := bundle.Create(dir, out); err != nil {
		t.Fatal(err)
	}
	p, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Pack(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Models) == 0 || p.Claims == nil {
		t.Fatalf("pack explanation lacks models or claims: %+v", p)
	}
	if len(b.Models) != len(p.Models) || b.Models[0] != p.Models[0] || b.Claims == nil || b.Claims.NClaims != p.Claims.NClaims {
		t.Fatalf("bundle explained differently: models %+v claims %+v, pack: %+v %+v", b.Models, b.Claims, p.Models, p.Claims)
	}
	if b.Verdict != p.Verdict || b.ExitCode != p.ExitCode {
		t.Fatalf("verdicts differ: bundle %s/%d pack %s/%d", b.Verdict, b.ExitCode, p.Verdict, p.ExitCode)
	}
}

// Claim lines read as "expected X; actual: Y" (Actual is the reference's
// wording, e.g. "found 0", so "got found 0" must not appear).
func TestClaimLineWording(t *testing.T) {
	t.Parallel()
	e, err := Pack(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	txt := e.Text(false)
	if strings.Contains(txt, "got found") || !strings.Contains(txt, "; actual: found ") {
		t.Fatalf("claim lines:\n%s", txt)
	}
}

// A pack that failed verification is explained with a warning that its
// contents are unverified, and without empty manifest fields.
func TestTamperedIsMarkedUnverified(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	packstest.FlipByte(t, filepath.Join(dir, "receipt_pack.jsonl"), 10)
	e, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e.ExitCode != 2 || !strings.Contains(e.Text(false), "Unverified: ") {
		t.Fatalf("tampered pack: exit %d\n%s", e.ExitCode, e.Text(false))
	}
	if err := os.WriteFile(filepath.Join(dir, "pack_manifest.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err = Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	txt := e.Text(false)
	for _, bad := range []string{"Run  recorded", "(mode )", "Signed claim check:  ", "Proof pack  ("} {
		if strings.Contains(txt, bad) {
			t.Fatalf("unreadable manifest renders %q:\n%s", bad, txt)
		}
	}
}

func TestModelLinePlural(t *testing.T) {
	t.Parallel()
	e, err := Pack("../../testdata/vectors/pack/golden_minimal")
	if err != nil {
		t.Fatal(err)
	}
	if txt := e.Text(false); !strings.Contains(txt, "test-model-v1: 1 call, 0 input + 0 output tokens, 0 errors.") {
		t.Fatalf("model line:\n%s", txt)
	}
}

// The JSON result says whether its content was verified: true for an
// intact pack, false with a note for a tampered one (and the text says so).
func TestVerifiedFlag(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	e, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	if !e.Verified || e.Note != "" || !strings.Contains(string(b), `"verified":true`) || strings.Contains(e.Text(false), UnverifiedNote) {
		t.Fatalf("intact pack: verified %v note %q", e.Verified, e.Note)
	}
	packstest.FlipByte(t, filepath.Join(dir, "receipt_pack.jsonl"), 10)
	e, err = Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(e)
	if e.Verified || e.Note != UnverifiedNote || !strings.Contains(string(b), `"verified":false`) || !strings.Contains(e.Text(true), UnverifiedNote) {
		t.Fatalf("tampered pack: verified %v note %q\n%s", e.Verified, e.Note, e.Text(true))
	}
}
