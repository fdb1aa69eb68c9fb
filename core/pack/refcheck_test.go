package pack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/receipt"
)

const refcheck = "../../testdata/refcheck/"

func python(t *testing.T) string {
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed for the cross-language check (it ships with this machine kind)")
	}
	return p
}

// TestRefCanonicalizerMatchesReference shows the Python re-statement's
// canonicalizer reproduces the reference's own outputs, so agreeing with it
// means something.
func TestRefCanonicalizerMatchesReference(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(python(t), refcheck+"canon_vectors.py", "../../testdata/vectors/canon_random.json").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok 400") {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestPacksPassPythonReadingRules builds packs with the content that trips
// implementations (Unicode line separators, floats in exponent form, big
// integers, non-ASCII values, claims) and checks a Python verifier following
// the reference's reading rules accepts them; a flipped byte it rejects.
func TestPacksPassPythonReadingRules(t *testing.T) {
	t.Parallel()
	py := python(t)
	mk := func(kv ...any) *receipt.Receipt {
		r := &receipt.Receipt{}
		for i := 0; i < len(kv); i += 2 {
			r.Set(kv[i].(string), kv[i+1])
		}
		return r
	}
	big, _ := canon.Decode([]byte(`{"big":123456789012345678901234567890,"f":1e21,"tiny":1e-7,"neg":-12.5e-10,"half":0.5,"one":1.0}`))
	recs := []*receipt.Receipt{
		mk("receipt_id", "r1", "type", "model_call", "timestamp", "2026-01-15T11:59:00.000001+00:00", "seq", 0, "model_id", "gpt-4o", "note", "line\u2028sep\u2029para\u0085nel", "numbers", big),
		mk("receipt_id", "r2", "type", "guardian_verdict", "timestamp", "2026-01-15T11:59:01+00:00", "seq", 1, "reason", "café ☃ 日本語 \U0001F600", "verdict", "allow"),
		mk("receipt_id", "r3", "type", "acme.tool_call/v1", "timestamp", "2026-01-15T11:59:02Z", "seq", 2, "nested", map[string]any{"b": []any{1, "x", nil, true}, "a": map[string]any{}}, "signature", "stripped by v0"),
	}
	cl := []claims.Claim{{ClaimID: "mc", Check: "receipt_type_present", Params: map[string]any{"receipt_type": "model_call"}, Severity: claims.Critical}}
	for name, o := range map[string]Options{
		"plain":  {RunID: "run-x", Receipts: recs},
		"claims": {RunID: "run-x", Receipts: recs, Claims: cl},
		"empty":  {RunID: "run-empty"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p")
			o.OutDir, o.Signer = dir, zeroSigner("s")
			if _, err := Build(o); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(py, refcheck+"refverify.py", dir).CombinedOutput(); err != nil || string(out) != "PASS\n" {
				t.Fatalf("reference reading rules reject our pack: %v: %s", err, out)
			}
			if name == "empty" {
				return
			}
			p := filepath.Join(dir, FileReceipts)
			raw, _ := os.ReadFile(p)
			raw[len(raw)/2] ^= 0x01
			os.WriteFile(p, raw, 0o644)
			out, err := exec.Command(py, refcheck+"refverify.py", dir).CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "hash receipt_pack.jsonl") {
				t.Fatalf("tampered pack: %v: %s", err, out)
			}
		})
	}
}
