// Package keyops holds the key lifecycle use cases of `assay key`: rotate,
// import and revoke a signer, keeping a lock file's signer allowlist in step
// with the keystore. core/keys owns the keystore itself and core/lock the
// lock file; this package is where the two meet. Results are typed and
// serialise to the CLI's --json documents; nothing here prints.
package keyops

import (
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

// RotateRequest asks for a successor of Old (default: the active signer).
type RotateRequest struct {
	Old       string
	NewID     string // default OLD-YYYYMMDDHHMMSS
	SetActive bool
	// LockPath, when set, gets both fingerprints added to its allowlist.
	LockPath string
	Now      time.Time
}

// Rotation is what a rotation did. The fields are in the order of the
// --json document's keys (sorted, as the reference prints them).
type Rotation struct {
	ActiveSigner   string  `json:"active_signer"`
	Lock           *string `json:"lock"`
	NewFingerprint string  `json:"new_fingerprint"`
	NewSigner      string  `json:"new_signer"`
	OldFingerprint string  `json:"old_fingerprint"`
	OldSigner      string  `json:"old_signer"`
	// Allowed is the size of the lock's allowlist afterwards (0 without a lock).
	Allowed int `json:"-"`
}

// Rotate generates the successor key. The lock is loaded before anything
// is written, so a bad lock changes nothing; the old key stays, so packs it
// signed still verify.
func Rotate(ks *keys.Store, r RotateRequest) (*Rotation, error) {
	if r.Old == "" {
		r.Old = ks.Active()
	}
	var l *lock.Lock
	if r.LockPath != "" {
		var err error
		if l, err = lock.Load(r.LockPath); err != nil {
			return nil, err
		}
	}
	sg, err := ks.Rotate(r.Old, r.NewID, r.Now)
	if err != nil {
		return nil, err
	}
	oldFP, err := ks.FingerprintOf(r.Old)
	if err != nil {
		return nil, err
	}
	newFP := keys.Fingerprint(sg.Public())
	if r.SetActive {
		if err := ks.SetActive(sg.ID); err != nil {
			return nil, err
		}
	}
	res := &Rotation{OldSigner: r.Old, OldFingerprint: oldFP, NewSigner: sg.ID, NewFingerprint: newFP}
	if l != nil {
		for _, fp := range []string{oldFP, newFP} {
			if err := l.Allow(fp); err != nil {
				return nil, err
			}
		}
		if err := l.Write(r.LockPath); err != nil {
			return nil, err
		}
		res.Lock, res.Allowed = &r.LockPath, len(l.SignerPolicy.AllowedFingerprints)
	}
	res.ActiveSigner = ks.Active()
	return res, nil
}

// ImportRequest imports an exported public key, or a key pair.
type ImportRequest struct {
	PubPath   string
	PrivPath  string // empty: public key only
	ID        string // default: from the file name
	SetActive bool
}

// Imported is what an import stored (--json keys in sorted order).
type Imported struct {
	Active      bool   `json:"active"`
	Fingerprint string `json:"fingerprint"`
	Private     bool   `json:"private"`
	SignerID    string `json:"signer_id"`
}

// Import stores the key. Making a public-only key active is refused: it
// cannot sign.
func Import(ks *keys.Store, r ImportRequest) (*Imported, error) {
	if r.SetActive && r.PrivPath == "" {
		return nil, exit.Bad("give --private KEY.b64 to import a key that can sign", "--set-active needs a private key")
	}
	got, err := ks.Import(r.PubPath, r.PrivPath, r.ID)
	if err != nil {
		return nil, err
	}
	if r.SetActive {
		if err := ks.SetActive(got); err != nil {
			return nil, err
		}
	}
	fp, err := ks.FingerprintOf(got)
	if err != nil {
		return nil, err
	}
	return &Imported{SignerID: got, Fingerprint: fp, Private: r.PrivPath != "", Active: ks.Active() == got}, nil
}

// RevokeRequest takes a signer (an id or a 64-hex fingerprint) out of use.
type RevokeRequest struct {
	Target   string
	LockPath string // remove its fingerprint from this lock's allowlist
	Delete   bool   // delete its key files (needs a signer id)
}

// Revocation is what a revocation did (--json keys in sorted order).
type Revocation struct {
	// AllowlistRemaining is the lock's allowlist size afterwards, -1
	// without a lock.
	AllowlistRemaining int     `json:"allowlist_remaining"`
	Deleted            bool    `json:"deleted"`
	Fingerprint        string  `json:"fingerprint"`
	Lock               *string `json:"lock"`
	RemovedFromLock    bool    `json:"removed_from_lock"`
	SignerID           *string `json:"signer_id"`
	// WasActive: the deleted key was the active signer; NowActive is the
	// one that signs from now on.
	WasActive bool   `json:"-"`
	NowActive string `json:"-"`
}

// Revoke removes the signer from the lock (written first: if it cannot be
// written, no key is gone yet) and, with Delete, deletes its key files.
// There is no revocation list: packs it signed still verify without --lock.
func Revoke(ks *keys.Store, r RevokeRequest) (*Revocation, error) {
	if r.LockPath == "" && !r.Delete {
		return nil, exit.Bad("give --lock FILE, --delete or both", "nothing to revoke from")
	}
	id, fp := "", ""
	switch {
	case keys.ValidID(r.Target) == nil && knownID(ks, r.Target):
		id = r.Target
		var err error
		if fp, err = ks.FingerprintOf(id); err != nil {
			return nil, err
		}
	case lock.IsFingerprint(strings.ToLower(r.Target)):
		fp = strings.ToLower(r.Target)
		if r.Delete {
			return nil, exit.Bad("give the signer id to delete its files", "--delete needs a signer id, not a fingerprint")
		}
	default:
		return nil, exit.Bad("list keys with 'assay key list', or give a 64-hex fingerprint", "no signer %q in %s", r.Target, ks.Dir)
	}
	res := &Revocation{Fingerprint: fp, Deleted: r.Delete, AllowlistRemaining: -1}
	if id != "" {
		res.SignerID = &id
	}
	if r.LockPath != "" {
		l, err := lock.Load(r.LockPath)
		if err != nil {
			return nil, err
		}
		if !l.Disallow(fp) {
			return nil, exit.Bad("see the allowlist with 'assay lock check "+r.LockPath+" --json'", "fingerprint %s is not in the allowlist of %s", fp[:16], r.LockPath)
		}
		if err := l.Write(r.LockPath); err != nil {
			return nil, err
		}
		res.Lock, res.RemovedFromLock, res.AllowlistRemaining = &r.LockPath, true, len(l.SignerPolicy.AllowedFingerprints)
	}
	if r.Delete {
		res.WasActive = ks.Active() == id
		if err := ks.Delete(id); err != nil {
			return nil, err
		}
		res.NowActive = ks.Active()
	}
	return res, nil
}

// knownID reports whether the keystore holds any file of id (a
// public-only import counts).
func knownID(ks *keys.Store, id string) bool {
	if ks.Exists(id) {
		return true
	}
	_, err := ks.FingerprintOf(id)
	return err == nil
}

// Pinning is the signer allowlist of a lock being written (DECISIONS 20).
type Pinning struct {
	// Fingerprints to pin; empty with Any.
	Fingerprints []string
	// Any: signer policy "any" was asked for (callers always warn).
	Any bool
	// Active is set when the active signer was pinned (no --signer);
	// Created says its key was made for this.
	Active  string
	Created bool
}

// PinSigners decides what a lock being written pins: the signers given (a
// 64-hex fingerprint as is, anything else a signer id in the keystore);
// nothing only when anySigner was asked for; otherwise the active signer,
// creating its key when there is none, as the signing commands do, so the
// lock pins the key the next pack is signed with. open opens the keystore,
// only when one is needed.
func PinSigners(open func() (*keys.Store, error), signers []string, anySigner bool) (*Pinning, error) {
	if anySigner {
		if len(signers) > 0 {
			return nil, exit.Bad("give either --signer (pin these) or --any-signer (pin none)", "--any-signer and --signer contradict each other")
		}
		return &Pinning{Any: true}, nil
	}
	p := &Pinning{}
	if len(signers) > 0 {
		for _, v := range signers {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if lock.IsFingerprint(strings.ToLower(v)) {
				p.Fingerprints = append(p.Fingerprints, strings.ToLower(v))
				continue
			}
			ks, err := open()
			if err != nil {
				return nil, err
			}
			if keys.ValidID(v) != nil || !ks.Exists(v) {
				return nil, exit.Bad("give 64-hex fingerprints or ids of keys in 'assay key list'", "--signer %q is neither a 64-hex fingerprint nor a local signer id", v)
			}
			pub, err := ks.LoadPublic(v)
			if err != nil {
				return nil, exit.Bad("regenerate or re-import the key", "cannot read public key of %q: %v", v, err)
			}
			p.Fingerprints = append(p.Fingerprints, keys.Fingerprint(pub))
		}
		return p, nil
	}
	ks, err := open()
	if err != nil {
		return nil, err
	}
	sg, made, err := ks.ActiveSigner(true)
	if err != nil {
		return nil, err
	}
	p.Fingerprints, p.Active, p.Created = []string{keys.Fingerprint(sg.Public())}, ks.Active(), made
	return p, nil
}

// Apply adds the pinned fingerprints to l's allowlist.
func (p *Pinning) Apply(l *lock.Lock) error {
	for _, fp := range p.Fingerprints {
		if err := l.Allow(fp); err != nil {
			return err
		}
	}
	return nil
}
