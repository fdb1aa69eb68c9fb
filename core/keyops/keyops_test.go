package keyops

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

func newStore(t *testing.T) (*keys.Store, string) {
	t.Helper()
	ks := keys.Open(filepath.Join(t.TempDir(), "home"))
	if _, _, err := ks.ActiveSigner(true); err != nil {
		t.Fatal(err)
	}
	l, err := lock.New([]string{"receipt_completeness"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "assay.lock")
	if err := l.Write(path); err != nil {
		t.Fatal(err)
	}
	return ks, path
}

// TestRotateThenRevoke is the lifecycle: rotating with --lock pins both
// keys, revoking the old one unpins it and deletes its files, and the lock
// is a valid lock throughout.
func TestRotateThenRevoke(t *testing.T) {
	t.Parallel()
	ks, lockPath := newStore(t)
	old := ks.Active()
	rot, err := Rotate(ks, RotateRequest{LockPath: lockPath, SetActive: true, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if rot.OldSigner != old || rot.NewSigner != old+"-20260102030405" || rot.ActiveSigner != rot.NewSigner || rot.Allowed != 2 || rot.Lock == nil {
		t.Fatalf("rotation %+v", rot)
	}
	l, err := lock.Load(lockPath)
	if err != nil || len(lock.Validate(l)) != 0 || strings.Join(l.SignerPolicy.AllowedFingerprints, ",") != rot.OldFingerprint+","+rot.NewFingerprint {
		t.Fatalf("lock after rotate: %v %+v", err, l.SignerPolicy)
	}
	rev, err := Revoke(ks, RevokeRequest{Target: old, LockPath: lockPath, Delete: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rev.RemovedFromLock || rev.AllowlistRemaining != 1 || !rev.Deleted || rev.WasActive || rev.Fingerprint != rot.OldFingerprint {
		t.Fatalf("revocation %+v", rev)
	}
	if ks.Exists(old) {
		t.Fatalf("the old key's files are still there")
	}
	// The --json document keeps the reference's key order and nulls.
	b, _ := json.Marshal(&Revocation{AllowlistRemaining: -1, Fingerprint: "f"})
	if string(b) != `{"allowlist_remaining":-1,"deleted":false,"fingerprint":"f","lock":null,"removed_from_lock":false,"signer_id":null}` {
		t.Fatalf("json %s", b)
	}
}

// TestRefusals: each use case refuses bad input before it changes anything.
func TestRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(ks *keys.Store, lockPath string) error
		want string
	}{
		{"revoke with nothing to revoke from", func(ks *keys.Store, _ string) error {
			_, err := Revoke(ks, RevokeRequest{Target: ks.Active()})
			return err
		}, "nothing to revoke from"},
		{"revoke an unknown signer", func(ks *keys.Store, lp string) error {
			_, err := Revoke(ks, RevokeRequest{Target: "nobody", LockPath: lp})
			return err
		}, `no signer "nobody"`},
		{"delete by fingerprint", func(ks *keys.Store, lp string) error {
			_, err := Revoke(ks, RevokeRequest{Target: strings.Repeat("a", 64), Delete: true})
			return err
		}, "--delete needs a signer id"},
		{"revoke a key the lock does not pin", func(ks *keys.Store, lp string) error {
			_, err := Revoke(ks, RevokeRequest{Target: ks.Active(), LockPath: lp})
			return err
		}, "is not in the allowlist"},
		{"import public-only as active", func(ks *keys.Store, _ string) error {
			_, err := Import(ks, ImportRequest{PubPath: "x.pub.b64", SetActive: true})
			return err
		}, "--set-active needs a private key"},
		{"rotate with a missing lock", func(ks *keys.Store, _ string) error {
			_, err := Rotate(ks, RotateRequest{LockPath: "/nonexistent/assay.lock", Now: time.Now()})
			return err
		}, "assay.lock"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ks, lp := newStore(t)
			before, _ := os.ReadFile(lp)
			ids, _ := ks.List()
			err := tc.run(ks, lp)
			if err == nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (code %d), want exit 3 with %q", err, exit.Code(err), tc.want)
			}
			after, _ := os.ReadFile(lp)
			ids2, _ := ks.List()
			if string(before) != string(after) || len(ids) != len(ids2) {
				t.Fatalf("a refused request changed the lock or the keystore")
			}
		})
	}
}

// TestPinSigners: --signer values (fingerprints as is, ids through the
// keystore), --any-signer (nothing, and never with --signer), or the active
// signer, made when there is none.
func TestPinSigners(t *testing.T) {
	t.Parallel()
	ks, _ := newStore(t)
	fp, err := ks.FingerprintOf(ks.Active())
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("ab", 32)
	empty := keys.Open(filepath.Join(t.TempDir(), "empty"))
	cases := []struct {
		name    string
		ks      *keys.Store
		signers []string
		any     bool
		want    string
		active  bool
		created bool
		err     string
	}{
		{"fingerprint and id", ks, []string{strings.ToUpper(other), ks.Active()}, false, other + "," + fp, false, false, ""},
		{"the active signer", ks, nil, false, fp, true, false, ""},
		{"the active signer, created", empty, nil, false, "", true, true, ""},
		{"any", ks, nil, true, "", false, false, ""},
		{"any and a signer", ks, []string{other}, true, "", false, false, "contradict"},
		{"unknown id", ks, []string{"nobody"}, false, "", false, false, "neither a 64-hex fingerprint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PinSigners(func() (*keys.Store, error) { return tc.ks, nil }, tc.signers, tc.any)
			if tc.err != "" {
				if err == nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want exit 3 with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(p.Fingerprints, ",")
			if (tc.want != "" && got != tc.want) || p.Any != tc.any || (p.Active != "") != tc.active || p.Created != tc.created {
				t.Fatalf("pinning %+v, want %s", p, tc.want)
			}
		})
	}
}
