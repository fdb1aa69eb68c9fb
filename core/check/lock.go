package check

import (
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/verify"
)

// lockGate enforces a lockfile: an invalid lockfile is bad input (exit 3);
// a pack that does not satisfy it (format, claim set, signer allowlist) is
// exit 2 (DECISIONS 6, 15).
type lockGate struct{ l *lock.Lock }

func newLockGate(path string, read func(string) ([]byte, error)) (*lockGate, error) {
	l, err := lock.LoadWith(path, read)
	if err != nil {
		return nil, err
	}
	if issues := lock.Validate(l); len(issues) > 0 {
		return nil, exit.Bad("rewrite it with 'assay lock write' and check it with 'assay lock check'", "invalid lockfile %s: %s", path, strings.Join(issues, "; "))
	}
	return &lockGate{l: l}, nil
}

func (g *lockGate) Name() string { return "lock" }

func (g *lockGate) Run(r *verify.Result, man *canon.Object) []verify.Error {
	// A signer is proven only by the public key embedded in the pack, its
	// fingerprint recomputed by the verifier (DECISIONS 20): a pack with no
	// embedded key, verified against the local keystore, satisfies no
	// allowlist, and the manifest's signer_pubkey_sha256 claim is not read.
	fp := ""
	if r.Pack.SignerKey == "embedded" {
		fp = r.Pack.Fingerprint
	}
	m := lock.Manifest{PackFormatVersion: r.Pack.FormatVersion, ClaimSetHash: man.String("claim_set_hash"), SignerPubkeySHA256: fp}
	var errs []verify.Error
	for _, mm := range lock.Compare(g.l, m) {
		r.LockErrors = append(r.LockErrors, mm.String())
		errs = append(errs, verify.NewError(verify.ELockMismatch, mm.Field, verify.StageLock, mm.String(), false))
	}
	return errs
}
