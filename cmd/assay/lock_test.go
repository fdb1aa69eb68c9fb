package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/lock"
)

// refVectors is relative to the package directory (tests chdir later, so
// resolve it before ckEnv).
var refVectors = func() string {
	p, _ := filepath.Abs("../../testdata/vectors/reference-1.24")
	return p
}()

func TestLockCLI(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	if code, out, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness,no_breakglass"); code != 0 || !strings.Contains(out, "Wrote assay.lock") {
		t.Fatalf("lock write: %d %q %q", code, out, errs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "assay.lock"))
	if !strings.HasPrefix(string(b), "{\n  \"lock_version\": \"1.0\",\n  \"assay_version_min\": \"1.24.0\",\n  \"assay_version_max\": \"2.0.0\",") || !strings.HasSuffix(string(b), "}\n") {
		t.Errorf("lock file shape:\n%s", b)
	}
	if code, out, _ := ckRun(t, "lock", "check"); code != 0 || !strings.HasPrefix(out, "VALID assay.lock") {
		t.Errorf("lock check: %d %q", code, out)
	}
	// A hand-edited lock: its issues, exit 1, in text and JSON alike.
	l, _ := lock.Load("assay.lock")
	l.RunCards[1].ClaimSetHash = strings.Repeat("0", 64)
	_ = l.Write("drift.lock")
	code, out, _ := ckRun(t, "lock", "check", "drift.lock")
	if code != 1 || !strings.Contains(out, "claim_set_hash drift") {
		t.Errorf("drifted lock: %d %q", code, out)
	}
	code, out, _ = ckRun(t, "lock", "check", "drift.lock", "--json")
	var res struct {
		Valid  bool     `json:"valid"`
		Issues []string `json:"issues"`
	}
	ckJSON(t, out, &res)
	if code != 1 || res.Valid || len(res.Issues) != 2 {
		t.Errorf("drifted lock --json: %d %+v", code, res)
	}

	// lock init: receipt_completeness; --from-pack: the pack's cards.
	if code, _, _ := ckRun(t, "lock", "init", "-o", "init.lock"); code != 0 {
		t.Fatal("lock init failed")
	}
	if l, _ := lock.Load("init.lock"); strings.Join(l.CardIDs(), ",") != "receipt_completeness" {
		t.Errorf("init cards %v", l.CardIDs())
	}
	ckOneLine(t, []string{"lock", "init", "-o", "init.lock"}, "init.lock already exists")
	if code, _, _ := ckRun(t, "lock", "init", "-o", "init.lock", "--force"); code != 0 {
		t.Error("lock init --force")
	}
	pk := ckPack(t, home, filepath.Join(dir, "pack"), []string{"no_breakglass", "receipt_completeness", "timestamp_ordering"}, "gpt-4o")
	if code, out, errs := ckRun(t, "lock", "init", "--from-pack", pk, "-o", "frompack.lock", "--json"); code != 0 || !strings.Contains(out, `"no_breakglass"`) {
		t.Fatalf("init --from-pack: %d %q %q", code, out, errs)
	}
	if code, _, _ := ckRun(t, "lock", "check", "frompack.lock"); code != 0 {
		t.Error("lock from pack fails check")
	}
	fl, _ := lock.Load("frompack.lock")
	if ms := lock.Compare(fl, packFacts(t, pk)); len(ms) != 0 {
		t.Errorf("pack mismatches the lock made from it: %v", ms)
	}

	ckOneLine(t, []string{"lock", "write", "--cards", "nope"}, `unknown built-in card "nope"`)
	ckOneLine(t, []string{"lock", "write"}, "lock write needs --cards")
	ckOneLine(t, []string{"lock", "write", "--cards", "no_breakglass", "--signer", "abc", "-o", "new.lock"}, `--signer "abc" is neither a 64-hex fingerprint nor a local signer id`)
	ckOneLine(t, []string{"lock", "write", "--cards", "no_breakglass", "-o", filepath.Join(dir, "no", "such", "dir.lock")}, "cannot write lock file")
	ckOneLine(t, []string{"lock", "check", "missing.lock"}, "lock file not found: missing.lock")
	_ = os.WriteFile("garbage.lock", []byte("{not json"), 0o644)
	ckOneLine(t, []string{"lock", "check", "garbage.lock"}, "invalid lock file garbage.lock")
	ckOneLine(t, []string{"lock", "init", "--from-pack", dir}, "is not a proof pack")
	nocards := ckPack(t, home, filepath.Join(dir, "nocards"), nil, "gpt-4o")
	ckOneLine(t, []string{"lock", "init", "--from-pack", nocards}, "declares no claims")
}

// packFacts are the manifest fields a lock compares.
func packFacts(t *testing.T, dir string) lock.Manifest {
	m := ckManifest(t, dir)
	att := m["attestation"].(map[string]any)
	return lock.Manifest{PackFormatVersion: att["pack_format_version"].(string), ClaimSetHash: m["claim_set_hash"].(string), SignerPubkeySHA256: m["signer_pubkey_sha256"].(string)}
}

// Lock against packs built here: the matching pack passes; other cards,
// another format version or an unpinned signer each give a mismatch naming
// the field.
func TestLockComparePacks(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	good := ckPack(t, home, filepath.Join(dir, "good"), []string{"receipt_completeness", "no_breakglass"}, "gpt-4o")
	fp := ckManifest(t, good)["signer_pubkey_sha256"].(string)
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness,no_breakglass", "--signer", "assay-local"); code != 0 {
		t.Fatalf("lock write --signer assay-local: %s", errs)
	}
	l, err := lock.Load("assay.lock")
	if err != nil {
		t.Fatal(err)
	}
	if len(lock.Validate(l)) != 0 || len(l.SignerPolicy.AllowedFingerprints) != 1 || l.SignerPolicy.AllowedFingerprints[0] != fp {
		t.Fatalf("lock: %+v %v", l.SignerPolicy, lock.Validate(l))
	}
	if ms := lock.Compare(l, packFacts(t, good)); len(ms) != 0 {
		t.Fatalf("good pack: %v", ms)
	}
	otherCards := ckPack(t, home, filepath.Join(dir, "other"), []string{"receipt_completeness"}, "gpt-4o")
	if ms := lock.Compare(l, packFacts(t, otherCards)); len(ms) != 1 || !strings.HasPrefix(ms[0].String(), "lock mismatch: claim_set_hash: expected ") {
		t.Errorf("other cards: %v", ms)
	}
	f := packFacts(t, good)
	f.PackFormatVersion = "0.2.0"
	if ms := lock.Compare(l, f); len(ms) != 1 || ms[0].String() != "lock mismatch: pack_format_version: expected 0.1.0, got 0.2.0" {
		t.Errorf("format: %v", ms)
	}
	if code, _, _ := ckRun(t, "key", "rotate", "--new-signer", "next", "--set-active"); code != 0 {
		t.Fatal("rotate")
	}
	newSigner := ckPack(t, home, filepath.Join(dir, "newsigner"), []string{"receipt_completeness", "no_breakglass"}, "gpt-4o")
	if ms := lock.Compare(l, packFacts(t, newSigner)); len(ms) != 1 || !strings.HasPrefix(ms[0].String(), "lock mismatch: signer_pubkey_sha256: expected "+fp[:16]) {
		t.Errorf("new signer: %v", ms)
	}
}

// The acceptance path: lock write → lock check → verify-pack --lock passes;
// other cards, another format version or an unpinned signer make
// verify-pack --lock exit 2 with a line naming the field, in text and JSON.
func TestLockVerifyPackEndToEnd(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	cards := []string{"receipt_completeness", "no_breakglass", "timestamp_ordering"}
	good := ckPack(t, home, filepath.Join(dir, "good"), cards, "gpt-4o", "claude-sonnet-4")
	if code, _, errs := ckRun(t, "lock", "write", "--cards", strings.Join(cards, ","), "--signer", "assay-local"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, _ := ckRun(t, "lock", "check"); code != 0 {
		t.Fatal("lock check")
	}
	if code, out, errs := ckRun(t, "verify-pack", good, "--lock", "assay.lock"); code != 0 {
		t.Fatalf("verify-pack --lock on the locked pack: %d\n%s%s", code, out, errs)
	}

	otherCards := ckPack(t, home, filepath.Join(dir, "cards"), []string{"receipt_completeness", "no_breakglass"}, "gpt-4o")
	l, _ := lock.Load("assay.lock")
	l.PackFormatVersion = "0.2.0"
	_ = l.Write("format.lock")
	if code, _, _ := ckRun(t, "key", "rotate", "--new-signer", "ci-2", "--set-active"); code != 0 {
		t.Fatal("rotate")
	}
	newSigner := ckPack(t, home, filepath.Join(dir, "signer"), cards, "gpt-4o")

	tests := []struct {
		name, pack, lock, field string
	}{
		{"cards", otherCards, "assay.lock", "lock mismatch: claim_set_hash: expected " + l.ClaimSetHash[:16]},
		{"format", good, "format.lock", "lock mismatch: pack_format_version: expected 0.2.0, got 0.1.0"},
		{"signer", newSigner, "assay.lock", "lock mismatch: signer_pubkey_sha256: expected " + l.SignerPolicy.AllowedFingerprints[0][:16]},
	}
	for _, tc := range tests {
		code, out, errs := ckRun(t, "verify-pack", tc.pack, "--lock", tc.lock)
		if code != 2 || !strings.Contains(out+errs, tc.field) {
			t.Errorf("%s: exit %d (want 2), no line %q:\n%s%s", tc.name, code, tc.field, out, errs)
		}
		code, out, _ = ckRun(t, "verify-pack", tc.pack, "--lock", tc.lock, "--json")
		var res struct {
			ExitCode   int      `json:"exit_code"`
			LockErrors []string `json:"lock_errors"`
		}
		ckJSON(t, out, &res)
		if code != 2 || res.ExitCode != 2 || len(res.LockErrors) != 1 || !strings.HasPrefix(res.LockErrors[0], tc.field) {
			t.Errorf("%s --json: exit %d %+v", tc.name, code, res)
		}
	}
	// Rotating with --lock pins the new key too: the new signer's pack passes.
	if code, _, errs := ckRun(t, "key", "rotate", "--signer", "ci-2", "--new-signer", "ci-3", "--lock", "assay.lock"); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := ckRun(t, "verify-pack", newSigner, "--lock", "assay.lock"); code != 0 {
		t.Errorf("after rotate --lock: %d\n%s%s", code, out, errs)
	}
	// The reference's own lock and pack agree under our verifier.
	ref, refLock := filepath.Join(refVectors, "run_pack"), filepath.Join(refVectors, "assay.lock")
	if code, out, errs := ckRun(t, "verify-pack", ref, "--lock", refLock); code != 0 {
		t.Errorf("reference pack with its lock: %d\n%s%s", code, out, errs)
	}
}
