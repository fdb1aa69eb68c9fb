package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

// DECISIONS 20: lock write/init pin the active signer by default; "any" must
// be asked for and always warns; lock check flags it; a pack signed by
// another key then fails --lock with exit 2.
func TestLockPinsActiveSignerByDefault(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	for _, argv := range [][]string{
		{"lock", "write", "--cards", "receipt_completeness", "-o", "w.lock"},
		{"lock", "init", "-o", "i.lock"},
	} {
		code, out, errs := ckRun(t, argv...)
		if code != 0 || !strings.Contains(out, "signer policy:  allowlist (1 fingerprint(s))") || strings.Contains(errs, "WARNING") {
			t.Fatalf("%v: %d %q %q", argv, code, out, errs)
		}
	}
	ks := keys.Open(home)
	pub, err := ks.LoadPublic(ks.Active())
	if err != nil {
		t.Fatalf("no active key was created: %v", err)
	}
	for _, f := range []string{"w.lock", "i.lock"} {
		l, err := lock.Load(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if l.SignerPolicy.Mode != lock.ModeAllowlist || strings.Join(l.SignerPolicy.AllowedFingerprints, ",") != keys.Fingerprint(pub) {
			t.Errorf("%s: %+v, want the active signer pinned", f, l.SignerPolicy)
		}
		if code, out, _ := ckRun(t, "lock", "check", f); code != 0 || strings.Contains(out, "WARNING") {
			t.Errorf("lock check %s: %d %q", f, code, out)
		}
	}

	// A pack signed by the active key passes --lock; after switching the
	// active key, a new pack fails it with exit 2.
	pk := ckPack(t, home, filepath.Join(dir, "p1"), []string{"receipt_completeness"}, "gpt-4o")
	if code, out, errs := ckRun(t, "verify-pack", pk, "--lock", "w.lock"); code != 0 {
		t.Fatalf("pinned signer's pack: %d %q %q", code, out, errs)
	}
	if code, _, _ := ckRun(t, "key", "generate", "other"); code != 0 {
		t.Fatal("key generate")
	}
	pk2 := ckPack(t, home, filepath.Join(dir, "p2"), []string{"receipt_completeness"}, "gpt-4o")
	if code, out, _ := ckRun(t, "verify-pack", pk2, "--lock", "w.lock"); code != 2 || !strings.Contains(out, "signer_pubkey_sha256") {
		t.Fatalf("other signer's pack against the pinned lock: %d %q", code, out)
	}

	// --any-signer: asked for, always warned about (even at --log-level error).
	code, out, errs := ckRun(t, "--log-level", "error", "lock", "write", "--cards", "receipt_completeness", "--any-signer", "-o", "any.lock")
	if code != 0 || !strings.Contains(out, "signer policy:  any") || !strings.Contains(errs, `WARNING: signer policy "any"`) {
		t.Fatalf("--any-signer: %d %q %q", code, out, errs)
	}
	code, out, _ = ckRun(t, "lock", "check", "any.lock")
	if code != 0 || !strings.Contains(out, "WARNING") || !strings.Contains(out, "anyone") {
		t.Errorf("lock check does not flag the any policy: %d %q", code, out)
	}
	var res struct {
		Valid    bool     `json:"valid"`
		Warnings []string `json:"warnings"`
	}
	code, out, _ = ckRun(t, "lock", "check", "any.lock", "--json")
	ckJSON(t, out, &res)
	if code != 0 || !res.Valid || len(res.Warnings) != 1 {
		t.Errorf("lock check --json: %d %+v", code, res)
	}
	ckOneLine(t, []string{"lock", "write", "--cards", "receipt_completeness", "--any-signer", "--signer", "other", "-o", "x.lock"}, "contradict")

	// Explicit --signer pins exactly that key.
	if code, _, errs := ckRun(t, "lock", "init", "--signer", "assay-local", "-o", "s.lock"); code != 0 {
		t.Fatalf("init --signer: %q", errs)
	}
	l, _ := lock.Load("s.lock")
	if strings.Join(l.SignerPolicy.AllowedFingerprints, ",") != keys.Fingerprint(pub) {
		t.Errorf("--signer assay-local pinned %v", l.SignerPolicy.AllowedFingerprints)
	}
}

// lock write and init refuse to replace a file without --force, and change
// nothing when they refuse.
func TestLockWriteRefusesOverwrite(t *testing.T) {
	_, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	p := filepath.Join(dir, "assay.lock")
	if err := os.WriteFile(p, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{
		{"lock", "write", "--cards", "receipt_completeness"},
		{"lock", "init"},
	} {
		ckOneLine(t, argv, "assay.lock already exists; nothing was changed")
		if b, _ := os.ReadFile(p); string(b) != "mine\n" {
			t.Fatalf("%v changed the file", argv)
		}
	}
	code, out, _ := ckRun(t, "lock", "write", "--cards", "receipt_completeness", "--json")
	var env struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	ckJSON(t, out, &env)
	if b, _ := os.ReadFile(p); code != 3 || env.Status != "error" || !strings.Contains(env.Error, "nothing was changed") || string(b) != "mine\n" {
		t.Fatalf("--json refusal: %d %+v", code, env)
	}
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness", "--force"); code != 0 {
		t.Fatalf("--force: %q", errs)
	}
	if _, err := lock.Load(p); err != nil {
		t.Fatal(err)
	}
}
