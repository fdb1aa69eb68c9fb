package signer

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"

	"github.com/assay-dev/assay/core/exit"
)

var update = flag.Bool("update", false, "rewrite the checked-in schema from the Go type")

const refDir = "../../testdata/vectors/reference-1.24"

const refFP = "0134090c9ea6be5d204a91c79d6000b78a0131c1f91c3b8485ea99030ea730aa"

func TestCheck(t *testing.T) {
	t.Parallel()
	run := filepath.Join(refDir, "run_pack")
	tests := []struct {
		name string
		dir  string
		o    Options
		exit int
	}{
		{"no expectations", run, Options{}, 0},
		{"all match", run, Options{ExpectedID: "assay-local", FingerprintPrefix: "0134090C9EA6BE5D", Allowed: []string{refFP}, AllowedFrom: "list"}, 0},
		{"id", run, Options{ExpectedID: "ci"}, 2},
		{"prefix", run, Options{FingerprintPrefix: strings.Repeat("0", 16)}, 2},
		{"allowlist", run, Options{Allowed: []string{strings.Repeat("a", 64)}, AllowedFrom: "list"}, 2},
		{"empty allowlist source", run, Options{Allowed: nil, AllowedFrom: "empty"}, 2},
		{"tampered receipts", filepath.Join(refDir, "challenge_tampered"), Options{}, 2},
		{"tampered signature (golden vectors)", "../../testdata/vectors/pack/tampered_signature", Options{}, 2},
	}
	for _, tc := range tests {
		r, err := Check(tc.dir, tc.o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.ExitCode != tc.exit || r.Passed != (tc.exit == 0) {
			t.Errorf("%s: exit %d passed %v, want %d: %+v", tc.name, r.ExitCode, r.Passed, tc.exit, r)
		}
		if tc.dir == run && (r.Fingerprint != refFP || !r.SignatureValid) {
			t.Errorf("%s: fingerprint %s valid %v", tc.name, r.Fingerprint, r.SignatureValid)
		}
	}
	for _, o := range []Options{{FingerprintPrefix: "0134"}, {FingerprintPrefix: strings.Repeat("g", 16)}, {FingerprintPrefix: strings.Repeat("a", 65)}, {ExpectedID: "../x"}} {
		if _, err := Check(run, o); exit.Code(err) != exit.BadInput {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := Check(filepath.Join(refDir, "nope"), Options{}); exit.Code(err) != exit.BadInput {
		t.Errorf("missing pack: %v", err)
	}
}

func TestLoadAllowlist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := func(name, body string) string {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	got, err := LoadAllowlist(w("ok", "# signers\n\n"+strings.ToUpper(refFP)+" ci # main\n   "+strings.Repeat("b", 64)+"\n"))
	if err != nil || len(got) != 2 || got[0] != refFP {
		t.Errorf("list: %v %v", got, err)
	}
	lockBody := `{"lock_version":"1.0","signer_policy":{"mode":"allowlist","allowed_fingerprints":["` + refFP + `"]}}`
	if got, err := LoadAllowlist(w("lock", lockBody)); err != nil || len(got) != 1 {
		t.Errorf("lock: %v %v", got, err)
	}
	for name, body := range map[string]string{
		"bad":   "abc\n",
		"empty": "# nothing\n",
		"any":   `{"signer_policy":{"mode":"any","allowed_fingerprints":[]}}`,
		"json":  `{"signer_policy":`,
	} {
		if _, err := LoadAllowlist(w(name, body)); exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LoadAllowlist(filepath.Join(dir, "missing")); exit.Code(err) != exit.BadInput {
		t.Errorf("missing: %v", err)
	}
}

func TestSchemaDrift(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/signer")
	sch := schematest.Compile(t, got)
	for _, dir := range []string{filepath.Join(refDir, "run_pack"), filepath.Join(refDir, "challenge_tampered")} {
		r, err := Check(dir, Options{ExpectedID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if err := schematest.Valid(sch, r); err != nil {
			t.Errorf("%s: report does not validate: %v", dir, err)
		}
	}
}

// A manifest that is not JSON is reported once, not twice (the verifier's
// schema error and the manifest reader's error say the same thing).
func TestUnreadableManifestOneProblem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"pack_manifest.json", "pack_signature.sig", "receipt_pack.jsonl", "verify_report.json", "verify_transcript.md"} {
		b, err := os.ReadFile(filepath.Join(refDir, "run_pack", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "pack_manifest.json" {
			b = []byte("{")
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	r, err := Check(dir, Options{})
	if err != nil || r.ExitCode != exit.Tampered {
		t.Fatalf("%v %+v", err, r)
	}
	seen := map[string]bool{}
	for _, p := range r.Problems {
		if seen[p] {
			t.Fatalf("problem repeated: %q", r.Problems)
		}
		seen[p] = true
	}
}
