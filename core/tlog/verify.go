package tlog

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	fproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/assay-dev/assay/core/exit"
)

// VerifyOptions pin what the anchor is checked against.
type VerifyOptions struct {
	// LogKey is the pinned log vkey. Empty: the key recorded in the anchor
	// is used, which proves inclusion in *a* log with that key only.
	LogKey string
	// Policy, when set, must be satisfied by the checkpoint's cosignatures.
	Policy *Policy
}

// Verification is what a verified anchor proves.
type Verification struct {
	Origin       string `json:"origin"`
	LogKeyPinned bool   `json:"log_key_pinned"`
	LeafIndex    uint64 `json:"leaf_index"`
	TreeSize     uint64 `json:"tree_size"`
	RootHash     string `json:"root_hash"`
	// Checkpoint is the signed checkpoint text, verbatim.
	Checkpoint string `json:"checkpoint"`
	// Cosigners are the policy's witnesses whose cosignature verified,
	// with the time each one states.
	Cosigners []Cosigner `json:"cosigners"`
	// Quorum describes the policy's quorum ("" without a policy).
	Quorum     string `json:"quorum,omitempty"`
	AnchoredAt string `json:"anchored_at"`
}

// Cosigner is one verified witness cosignature.
type Cosigner struct {
	Name string    `json:"name"`
	Time time.Time `json:"time"`
}

// InvalidError says an anchor is present but does not verify (exit 2).
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "anchor does not verify: " + e.Reason }

func invalid(format string, a ...any) error { return &InvalidError{Reason: fmt.Sprintf(format, a...)} }

// LoadLogKey reads a pinned log key: a vkey, or a file holding one.
func LoadLogKey(s string) (string, error) {
	k := strings.TrimSpace(s)
	if fileExists(k) {
		b, err := os.ReadFile(k)
		if err != nil {
			return "", exit.Bad("give the log's vkey (name+id+key) or a file holding it", "--log-key: %v", err)
		}
		k = strings.TrimSpace(string(b))
	}
	return CheckLogKey(k)
}

// CheckLogKey validates a log key given as a vkey (name+id+key), not a file.
func CheckLogKey(k string) (string, error) {
	k = strings.TrimSpace(k)
	if _, err := fnote.NewVerifier(k); err != nil {
		return "", exit.Bad("give the log's vkey (name+id+key), e.g. from "+FileLogVKey, "--log-key is not a note verifier key: %v", err)
	}
	return k, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// LoadPolicy reads and validates a witness policy file (bad input, exit 3,
// when it does not parse or breaks a rule).
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, exit.Bad("give a witness policy file (C2SP tlog-policy)", "--witness-policy: %v", err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, exit.Bad("fix the witness policy (see docs/anchoring.md)", "%s: %v", path, err)
	}
	return p, nil
}

// VerifyAnchor checks the anchor of the pack in dir, offline: it recomputes
// the leaf from the pack, checks the log's signature on the checkpoint, the
// witnesses' cosignatures against the policy, and the inclusion proof.
// Errors: ErrNoAnchor (absent), *InvalidError (does not verify), or an
// exit.Error for bad input.
func VerifyAnchor(dir string, o VerifyOptions) (*Verification, error) {
	a, err := ReadAnchor(dir)
	if err != nil {
		if errors.Is(err, ErrNoAnchor) {
			return nil, err
		}
		return nil, invalid("%v", err)
	}
	leaf, err := PackLeaf(dir)
	if err != nil {
		return nil, invalid("cannot recompute the leaf: %v", err)
	}
	return VerifyProof(a, leaf.Bytes(), o)
}

// VerifyProof checks anchor a for the given leaf bytes.
func VerifyProof(a *Anchor, leaf []byte, o VerifyOptions) (*Verification, error) {
	vkey, pinned := a.LogVKey, false
	if o.LogKey != "" {
		vkey, pinned = o.LogKey, true
	}
	logV, err := fnote.NewVerifier(vkey)
	if err != nil {
		return nil, invalid("log key %q: %v", vkey, err)
	}
	if a.LogOrigin != logV.Name() {
		return nil, invalid("anchor names log %q but the log key is %q's", a.LogOrigin, logV.Name())
	}
	var tp fproof.TLogProof
	if err := tp.Unmarshal([]byte(a.TLogProof)); err != nil {
		return nil, invalid("tlog_proof: %v", err)
	}
	if tp.Index != a.LeafIndex {
		return nil, invalid("leaf_index %d differs from the proof's index %d", a.LeafIndex, tp.Index)
	}
	var others []note.Verifier
	if o.Policy != nil {
		others = o.Policy.Verifiers()
	}
	cp, _, n, err := log.ParseCheckpoint(tp.Checkpoint, a.LogOrigin, logV, others...)
	if err != nil {
		return nil, invalid("checkpoint: %v", err)
	}
	v := &Verification{Origin: cp.Origin, LogKeyPinned: pinned, LeafIndex: tp.Index, TreeSize: cp.Size,
		RootHash: hex.EncodeToString(cp.Hash), Checkpoint: string(tp.Checkpoint), Cosigners: []Cosigner{}, AnchoredAt: a.AnchoredAt}
	if o.Policy != nil {
		names := o.Policy.Cosigners(n.Sigs)
		for _, name := range names {
			c := Cosigner{Name: name}
			for _, s := range n.Sigs {
				w := o.Policy.Witnesses[name].verifier
				if s.Name == w.Name() && s.Hash == w.KeyHash() {
					if t, err := fnote.CoSigV1Timestamp(s); err == nil {
						c.Time = t.UTC()
					}
				}
			}
			v.Cosigners = append(v.Cosigners, c)
		}
		v.Quorum = o.Policy.Describe()
		if !o.Policy.Satisfied(names) {
			return v, invalid("witness quorum %s not met: cosigned by %d (%s)", v.Quorum, len(names), strings.Join(names, ", "))
		}
	}
	if tp.Index >= cp.Size {
		return v, invalid("leaf index %d is outside the checkpoint's tree of size %d", tp.Index, cp.Size)
	}
	path := make([][]byte, len(tp.Hashes))
	for i := range tp.Hashes {
		path[i] = tp.Hashes[i][:]
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, tp.Index, cp.Size, rfc6962.DefaultHasher.HashLeaf(leaf), path, cp.Hash); err != nil {
		return v, invalid("inclusion proof: the pack's leaf is not at index %d of the checkpoint's tree (%v)", tp.Index, err)
	}
	return v, nil
}
