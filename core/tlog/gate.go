package tlog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify"
)

// Gate checks a pack's anchor as a verify-pack gate: missing → exit 1 when
// required, present but not verifying → exit 2.
type Gate struct {
	Options VerifyOptions
	// Required makes a missing anchor a failed gate (exit 1).
	Required bool
	// Result is filled when the anchor verified.
	Result *Verification
}

// Name implements verify.GateCheck.
func (g *Gate) Name() string { return "anchor" }

// Run implements verify.GateCheck; p.Dir is the pack directory (a bundle's
// extracted copy).
func (g *Gate) Run(r *verify.Result, p *pack.Pack) []verify.Error {
	v, err := VerifyAnchor(p.Dir, g.Options)
	if errors.Is(err, ErrNoAnchor) && !g.Required {
		return nil
	}
	if errors.Is(err, ErrNoAnchor) {
		return []verify.Error{verify.NewError(verify.EAnchorMissing, AnchorFile, verify.StageAnchor,
			"No transparency-log anchor: run 'assay anchor "+r.Path+"' first", true)}
	}
	if err != nil {
		return []verify.Error{verify.NewError(verify.EAnchorInvalid, AnchorFile, verify.StageAnchor, err.Error(), false)}
	}
	g.Result = v
	return nil
}

// Summary is one line on what a verified anchor proves.
func (v *Verification) Summary() string {
	s := fmt.Sprintf("entry %d of %s (tree size %d)", v.LeafIndex, v.Origin, v.TreeSize)
	if !v.LogKeyPinned {
		s += ", log key from the pack (not pinned: pass --log-key)"
	}
	if v.Quorum != "" {
		names := make([]string, len(v.Cosigners))
		for i, c := range v.Cosigners {
			names[i] = c.Name
			if !c.Time.IsZero() {
				names[i] += " at " + c.Time.Format("2006-01-02T15:04:05Z")
			}
		}
		s += fmt.Sprintf("; witnessed by %s (quorum %s)", strings.Join(names, ", "), v.Quorum)
	}
	return s
}
