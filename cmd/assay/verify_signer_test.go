package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/signer"
)

func TestVerifySigner(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	pk := ckPack(t, home, filepath.Join(dir, "pack"), []string{"receipt_completeness"}, "gpt-4o")
	fp := ckManifest(t, pk)["signer_pubkey_sha256"].(string)
	other := strings.Repeat("ab", 32)
	_ = os.WriteFile("allowed.txt", []byte("# CI signers\n"+other+" old-ci\n\n"+strings.ToUpper(fp)+"  # this one\n"), 0o644)
	_ = os.WriteFile("others.txt", []byte(other+"\n"), 0o644)
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness", "--signer", fp, "-o", "pinned.lock"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness", "--any-signer", "-o", "any.lock"); code != 0 {
		t.Fatal(errs)
	}

	tests := []struct {
		name string
		args []string
		exit int
		want string
	}{
		{"plain", nil, 0, "SIGNER OK  signed by assay-local"},
		{"expected", []string{"--expected", "assay-local"}, 0, "--expected: ok"},
		{"expected other", []string{"--expected", "someone"}, 2, "--expected: MISMATCH (expected someone, got assay-local)"},
		{"fingerprint prefix", []string{"--fingerprint", strings.ToUpper(fp[:16])}, 0, "--fingerprint: ok"},
		{"fingerprint full", []string{"--fingerprint", fp}, 0, "--fingerprint: ok"},
		{"fingerprint other", []string{"--fingerprint", other[:20]}, 2, "--fingerprint: MISMATCH"},
		{"allowlist file", []string{"--allowed-signers", "allowed.txt"}, 0, "--allowed-signers: ok (expected one of 2 fingerprints in allowed.txt"},
		{"not allowed", []string{"--allowed-signers", "others.txt"}, 2, "--allowed-signers: MISMATCH"},
		{"lock allowlist", []string{"--allowed-signers", "pinned.lock"}, 0, "--allowed-signers: ok"},
		{"all at once", []string{"--expected", "assay-local", "--fingerprint", fp[:16], "--allowed-signers", "others.txt"}, 2, "--expected: ok"},
	}
	for _, tc := range tests {
		code, out, errs := ckRun(t, append([]string{"verify-signer", pk}, tc.args...)...)
		if code != tc.exit || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d (want %d)\n%s%s", tc.name, code, tc.exit, out, errs)
		}
		if !strings.Contains(out, fp) {
			t.Errorf("%s: recomputed fingerprint not shown", tc.name)
		}
	}

	// --json: one document with the recomputed fingerprint, in every outcome.
	code, out, _ := ckRun(t, "verify-signer", pk, "--expected", "x", "--json")
	var rep signer.Report
	ckJSON(t, out, &rep)
	if code != 2 || rep.ExitCode != 2 || rep.Fingerprint != fp || !rep.SignatureValid || !rep.KeyInLocalKeystore || rep.LocalFingerprintMatch == nil || !*rep.LocalFingerprintMatch {
		t.Errorf("json: %d %+v", code, rep)
	}

	// Another key embedded in the manifest: the signature no longer verifies: 2.
	bad := filepath.Join(dir, "swapped")
	copyDir(t, pk, bad)
	mb, _ := os.ReadFile(filepath.Join(bad, "pack_manifest.json"))
	var m map[string]any
	_ = json.Unmarshal(mb, &m)
	otherPub := make([]byte, 32)
	otherPub[0] = 1
	s := strings.Replace(string(mb), m["signer_pubkey"].(string), base64.StdEncoding.EncodeToString(otherPub), 1)
	_ = os.WriteFile(filepath.Join(bad, "pack_manifest.json"), []byte(s), 0o644)
	code, out, _ = ckRun(t, "verify-signer", bad, "--expected", "assay-local")
	if code != 2 || !strings.Contains(out, "BAD SIGNATURE") {
		t.Errorf("swapped key: %d %q", code, out)
	}
	// One byte of the receipts changed: the signature still verifies over the
	// manifest, but the pack is not what was signed: 2.
	tam := filepath.Join(dir, "tampered")
	copyDir(t, pk, tam)
	rb, _ := os.ReadFile(filepath.Join(tam, "receipt_pack.jsonl"))
	_ = os.WriteFile(filepath.Join(tam, "receipt_pack.jsonl"), []byte(strings.Replace(string(rb), "gpt-4o", "gpt-4O", 1)), 0o644)
	code, out, _ = ckRun(t, "verify-signer", tam, "--json")
	ckJSON(t, out, &rep)
	if code != 2 || rep.Integrity != "TAMPERED" || !rep.SignatureValid || rep.Passed {
		t.Errorf("tampered receipts: %d %+v", code, rep)
	}

	// An audit bundle is checked as the pack inside it.
	if code, _, errs := ckRun(t, "audit", "bundle", pk, "-o", "b.tar.gz"); code != 0 {
		t.Fatalf("audit bundle: %s", errs)
	}
	if code, out, _ := ckRun(t, "verify-signer", "b.tar.gz", "--fingerprint", fp[:16]); code != 0 || !strings.Contains(out, fp) {
		t.Errorf("bundle: %d %q", code, out)
	}
	ckOneLine(t, []string{"verify-signer", pk, "--fingerprint", fp[:15]}, "--fingerprint must be 16 to 64 hex characters")
	ckOneLine(t, []string{"verify-signer", pk, "--fingerprint", ""}, "--fingerprint is empty")
	ckOneLine(t, []string{"verify-signer", pk, "--fingerprint", strings.Repeat("z", 16)}, "--fingerprint must be 16 to 64 hex")
	ckOneLine(t, []string{"verify-signer", pk, "--allowed-signers", "nothere.txt"}, "allowed-signers file not found")
	_ = os.WriteFile("junk.txt", []byte("not-a-fingerprint\n"), 0o644)
	ckOneLine(t, []string{"verify-signer", pk, "--allowed-signers", "junk.txt"}, `junk.txt:1: "not-a-fingerprint" is not a 64-hex fingerprint`)
	ckOneLine(t, []string{"verify-signer", pk, "--allowed-signers", "any.lock"}, "has no signer allowlist")
	ckOneLine(t, []string{"verify-signer", filepath.Join(dir, "nope")}, "pack not found")
	ckOneLine(t, []string{"verify-signer", dir}, "no pack_manifest.json")
	ckOneLine(t, []string{"verify-signer"}, "takes 1 argument(s), got 0 (give the pack directory or audit bundle")
}

// The reference's own pack: its signer and fingerprint are recomputed.
func TestVerifySignerReferencePack(t *testing.T) {
	t.Parallel()
	ref, _ := filepath.Abs("../../testdata/vectors/reference-1.24/run_pack")
	ckEnv(t)
	code, out, errs := ckRun(t, "verify-signer", ref, "--expected", "assay-local", "--fingerprint", "0134090c9ea6be5d204a91c79d6000b7")
	if code != 0 || !strings.Contains(out, "0134090c9ea6be5d204a91c79d6000b78a0131c1f91c3b8485ea99030ea730aa") {
		t.Errorf("reference pack: %d %q %q", code, out, errs)
	}
}
