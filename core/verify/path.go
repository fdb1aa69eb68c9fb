package verify

import (
	"math"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
)

// What a user points at: a pack directory or an audit bundle (.tar.gz,
// extracted safely into a temp directory by pack.Open, DECISIONS 16),
// verified with the gates the request names as files (lockfile, coverage
// contract, anchor key and witness policy). Both front ends come here
// through core/ops.

// PathOptions are Options plus the gates given as files.
type PathOptions struct {
	Options
	// LockPath enforces a lockfile (mismatch: exit 2).
	LockPath string
	// CoverageContract with MinCoverage (0..1) gates call-site coverage.
	CoverageContract string
	MinCoverage      float64
	// ReadFile reads LockPath, CoverageContract and the anchor's key and
	// policy files; nil reads them by path (the CLI: the user names their
	// own files). A caller that checked those paths against roots passes a
	// reader confined to the same roots, so a link swapped in after the
	// check cannot lead out.
	ReadFile func(path string) ([]byte, error)
	// Anchor gates the pack's transparency-log anchor (core/tlog).
	Anchor AnchorOptions
}

// VerifyPath verifies the pack or bundle at path. The error is non-nil
// only for bad input (exit 3); every verdict is in the result.
func VerifyPath(path string, o PathOptions) (*Result, error) {
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.CoverageContract != "" {
		if math.IsNaN(o.MinCoverage) || o.MinCoverage < 0 || o.MinCoverage > 1 {
			return nil, exit.Bad("give a fraction between 0 and 1, e.g. 0.8", "--min-coverage must be within 0..1, got %v", o.MinCoverage)
		}
		g, err := NewCoverageGate(o.CoverageContract, o.MinCoverage, o.ReadFile)
		if err != nil {
			return nil, err
		}
		o.Gates = append(o.Gates, g)
	}
	if o.LockPath != "" {
		g, err := NewLockGate(o.LockPath, o.ReadFile)
		if err != nil {
			return nil, err
		}
		o.Gates = append([]GateCheck{g}, o.Gates...)
	}
	var anchor *AnchorGate
	if o.Anchor.Asked() {
		g, err := NewAnchorGate(o.Anchor, o.ReadFile)
		if err != nil {
			return nil, err
		}
		anchor = g
		o.Gates = append(o.Gates, g)
	}
	if err := o.Options.Validate(); err != nil {
		return nil, err
	}
	p, err := pack.Open(path)
	if err != nil {
		return Unopened(path, err, o.Options)
	}
	defer p.Close()
	return verifyOpened(p, o.Options, anchor)
}

// OpenVerified opens the pack or bundle at path (pack.Open) and verifies
// it with o: for readers that go on to describe the pack (explain, diff)
// and must know whether what they read was verified. The pack is nil when
// its manifest could not be read (the result says why); the caller closes
// it.
func OpenVerified(path string, o Options) (*pack.Pack, *Result, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	p, err := pack.Open(path)
	if err != nil {
		r, err := Unopened(path, err, o)
		return nil, r, err
	}
	r, err := verifyOpened(p, o, nil)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return p, r, nil
}

func verifyOpened(p *pack.Pack, o Options, anchor *AnchorGate) (*Result, error) {
	r, err := VerifyPack(p, o)
	if err != nil {
		return nil, err
	}
	r.Path = p.Path
	if p.Bundle {
		r.Warnings = bundleWarnings(r.Warnings)
	}
	if anchor != nil {
		anchor.Annotate(r)
	}
	return r, nil
}

// bundleWarnings replaces the verifier's one warning per file a bundle adds
// at the pack root ("Unexpected top-level pack entry ignored: SIGNER_INFO.json",
// ...), which every bundle has, with one note saying what those files are.
func bundleWarnings(ws []string) []string {
	out := make([]string, 0, len(ws))
	dropped := false
	for _, w := range ws {
		if i := strings.LastIndex(w, ": "); i >= 0 && pack.BundleAdded(w[i+2:]) {
			dropped = true
			continue
		}
		out = append(out, w)
	}
	if dropped {
		out = append([]string{"Audit bundle: " + pack.BundleFileSignerInfo + ", " + pack.BundleFileSummary + ", " + pack.BundleFileInstructions + " and " + pack.BundleFileResult +
			" were added when it was bundled; they are not covered by the pack's signature"}, out...)
	}
	return out
}
