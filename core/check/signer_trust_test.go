package check

// Signer trust (issue 13, DECISIONS 20): a signer is proven only by the
// public key embedded in the pack, its fingerprint recomputed from that
// key. The manifest's signer_pubkey_sha256 claim and the local keystore
// prove nothing, for the lock's allowlist, the summary and verify-signer
// alike.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/signer"
	"github.com/assay-dev/assay/core/verify"
	"github.com/assay-dev/assay/core/verify/verifytest"
)

type trustEnv struct {
	ks       *keys.Store
	ci       *keys.Signer // the pinned CI key, also in the local keystore
	ciFP     string
	pinned   string // lock path allowing only the CI key
	attacker *keys.Signer
}

func newTrustEnv(t *testing.T) *trustEnv {
	t.Helper()
	home := t.TempDir()
	ks := keys.Open(home)
	ci, err := ks.Write("ci", []byte(strings.Repeat("c", 32)))
	if err != nil {
		t.Fatal(err)
	}
	e := &trustEnv{ks: ks, ci: ci, ciFP: keys.Fingerprint(ci.Public()), attacker: verifytest.Attacker}
	l, err := lock.New([]string{"receipt_completeness"}, []string{e.ciFP})
	if err != nil {
		t.Fatal(err)
	}
	e.pinned = filepath.Join(t.TempDir(), "assay.lock")
	if err := l.Write(e.pinned); err != nil {
		t.Fatal(err)
	}
	return e
}

// packSignedBy builds a pack with the receipt_completeness claim set,
// signed by s; edit may then change the manifest before signing.
func (e *trustEnv) packSignedBy(t *testing.T, s *keys.Signer, edit func(man *canon.Object)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pack")
	if err := verifytest.Build(dir, 2, s); err != nil {
		t.Fatal(err)
	}
	l, _ := lock.New([]string{"receipt_completeness"}, nil)
	if err := verifytest.Reseal(dir, s, func(man, att *canon.Object) {
		// The lock compares the claim set too: give the pack the lock's,
		// so only the signer can differ.
		man.Set("claim_set_hash", l.ClaimSetHash)
		att.Set("claim_set_hash", l.ClaimSetHash)
		if edit != nil {
			edit(man)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (e *trustEnv) verify(t *testing.T, dir string) *verify.Result {
	t.Helper()
	r, err := Pack(dir, Options{LockPath: e.pinned, Options: verify.Options{Keystore: e.ks, IntegrityOnly: true, Now: verifytest.Now}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLockAllowlistNeedsEmbeddedKey(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	tests := []struct {
		name      string
		signer    *keys.Signer
		edit      func(man *canon.Object)
		exit      int
		fp        string // the summary's fingerprint: of the key that verified
		keySource string
	}{
		{"pinned key embedded", e.ci, nil, exit.OK, e.ciFP, "embedded"},
		{"other key embedded", e.attacker, nil, exit.Tampered, keys.Fingerprint(e.attacker.Public()), "embedded"},
		// No embedded key: the signature verifies with the keystore's key for
		// signer_id "ci", the very key the lock pins, and still proves no
		// signer.
		{"no embedded key, keystore holds the pinned key", e.ci, func(man *canon.Object) {
			man.Set("signer_pubkey", "")
		}, exit.Tampered, e.ciFP, "keystore"},
		// The attacker's pack claims the pinned fingerprint and names the
		// CI signer; the keystore's key does not verify it.
		{"no embedded key, claimed pinned fingerprint", e.attacker, func(man *canon.Object) {
			man.Set("signer_pubkey", "")
			man.Set("signer_id", "ci")
			man.Set("signer_pubkey_sha256", e.ciFP)
		}, exit.Tampered, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := e.packSignedBy(t, tc.signer, tc.edit)
			r := e.verify(t, dir)
			if r.ExitCode != tc.exit {
				t.Fatalf("exit %d, want %d: %+v %v", r.ExitCode, tc.exit, r.Errors, r.LockErrors)
			}
			if r.Pack.Fingerprint != tc.fp || r.Pack.SignerKey != tc.keySource {
				t.Fatalf("summary fingerprint %q (%s), want %q (%s)", r.Pack.Fingerprint, r.Pack.SignerKey, tc.fp, tc.keySource)
			}
			if tc.keySource == "keystore" {
				if r.Integrity != "PASS" || len(r.LockErrors) != 1 || !strings.Contains(r.LockErrors[0], "signer_pubkey_sha256") {
					t.Fatalf("want intact pack refused by the lock's signer: %s %v", r.Integrity, r.LockErrors)
				}
			}
		})
	}
}

// The summary never shows the manifest's claim: a claim that differs from
// the embedded key fails the signature stage and shows no fingerprint.
func TestSummaryFingerprintIsVerifyingKey(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	dir := e.packSignedBy(t, e.attacker, func(man *canon.Object) { man.Set("signer_pubkey_sha256", e.ciFP) })
	r := e.verify(t, dir)
	if r.ExitCode != exit.Tampered || r.Pack.Fingerprint != "" || r.Pack.ClaimedFingerprint != e.ciFP {
		t.Fatalf("exit %d fingerprint %q claimed %q", r.ExitCode, r.Pack.Fingerprint, r.Pack.ClaimedFingerprint)
	}
}

// verify-signer: a mismatch exits 2, and a keystore-verified pack matches
// no fingerprint or allowlist.
func TestVerifySignerMismatchIsTampered(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	allowed := filepath.Join(t.TempDir(), "allowed.txt")
	os.WriteFile(allowed, []byte(e.ciFP+"\n"), 0o644)
	embedded := e.packSignedBy(t, e.ci, nil)
	keystoreOnly := e.packSignedBy(t, e.ci, func(man *canon.Object) { man.Set("signer_pubkey", "") })
	other := e.packSignedBy(t, e.attacker, nil)
	fps, err := signer.LoadAllowlist(allowed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		o    signer.Options
		exit int
	}{
		{"embedded, allowlisted", embedded, signer.Options{Allowed: fps, AllowedFrom: allowed}, exit.OK},
		{"embedded, fingerprint", embedded, signer.Options{FingerprintPrefix: e.ciFP[:16]}, exit.OK},
		{"other key, allowlist", other, signer.Options{Allowed: fps, AllowedFrom: allowed}, exit.Tampered},
		{"other key, fingerprint", other, signer.Options{FingerprintPrefix: e.ciFP}, exit.Tampered},
		{"other key, expected id", other, signer.Options{ExpectedID: "ci"}, exit.Tampered},
		{"keystore only, allowlist", keystoreOnly, signer.Options{Allowed: fps, AllowedFrom: allowed}, exit.Tampered},
		{"keystore only, fingerprint", keystoreOnly, signer.Options{FingerprintPrefix: e.ciFP}, exit.Tampered},
		{"pinned lock as allowlist, other key", other, signer.Options{Allowed: []string{e.ciFP}, AllowedFrom: e.pinned}, exit.Tampered},
	}
	for _, tc := range tests {
		tc.o.Keystore = e.ks
		rep, err := signer.Check(tc.dir, tc.o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if rep.ExitCode != tc.exit || rep.Passed != (tc.exit == exit.OK) {
			t.Errorf("%s: exit %d passed %v, want %d: %+v", tc.name, rep.ExitCode, rep.Passed, tc.exit, rep.Comparisons)
		}
	}
}
