package flows

import (
	"errors"
	"path/filepath"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/packs"
)

// PackPlaceholder stands for the pack in a plan made before any pack exists.
const PackPlaceholder = "PACK"

// needsInput is returned by a build function together with its steps when
// the plan can be shown but not applied yet (a placeholder stands in for
// something the user still has to make). Plan records it in Plan.Blocked.
type needsInput struct{ msg string }

func (n *needsInput) Error() string { return n.msg }

// asBlocked reports whether err only marks a plan as not yet applicable.
func asBlocked(err error) (string, bool) {
	var ni *needsInput
	if errors.As(err, &ni) {
		return ni.msg, true
	}
	return "", false
}

// ErrBlocked is the bad-input error for applying a blocked plan: nothing ran.
func ErrBlocked(p *Plan) error {
	return exit.Bad(p.BlockedFix, "flow %s cannot run yet: %s; nothing was run", p.Flow, p.Blocked)
}

// makePackHint says how to make the pack the audit flow needs.
const makePackHint = "make one with 'assay flow adopt --apply' or 'assay run -c receipt_completeness -o proof_pack_audit -- python3 app.py' (or try 'assay demo-incident -o incident'), or pass --param pack=DIR"

// auditPack resolves the audit flow's default pack with the shared finder
// (core/packs): the newest pack under dir, found by its manifest, relative
// to dir. With no pack it returns the placeholder and a needsInput.
func auditPack(dir string) (string, error) {
	found, err := packs.Find(dir)
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return PackPlaceholder, &needsInput{msg: "no proof pack under " + dir}
	}
	rel, err := filepath.Rel(dir, found[0].Path)
	if err != nil {
		return found[0].Path, nil
	}
	return rel, nil
}

// pinsSigners reports whether the lock at path exists and pins signers
// (allowlist mode with at least one fingerprint).
func pinsSigners(path string) bool {
	l, err := lock.Load(path)
	return err == nil && l.SignerPolicy.Mode == lock.ModeAllowlist && len(l.SignerPolicy.AllowedFingerprints) > 0
}
