// Package check is the one entry point both front ends use to verify
// something a user points at: a pack directory or an audit bundle
// (.tar.gz, extracted safely into a temp directory, DECISIONS 16), with the
// requested gates (lockfile, coverage contract) turned into verify gates.
package check

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

// Options are verify.Options plus the file-based gates.
type Options struct {
	verify.Options
	// LockPath enforces a lockfile (mismatch: exit 2).
	LockPath string
	// CoverageContract with MinCoverage (0..1) gates call-site coverage.
	CoverageContract string
	MinCoverage      float64
	// ReadFile reads LockPath and CoverageContract; nil reads them by
	// path (the CLI: the user names their own files). A caller that
	// checked those paths against roots passes a reader confined to the
	// same roots, so a link swapped in after the check cannot lead out.
	ReadFile func(path string) ([]byte, error)
	// Anchor gates the pack's transparency-log anchor (core/tlog).
	Anchor AnchorOptions
}

// AnchorOptions ask for the anchor gate: a missing anchor fails it (exit 1)
// when Require is set; an anchor that does not verify is exit 2.
type AnchorOptions struct {
	Require bool
	// LogKey pins the log's public key: a vkey, or a file holding one
	// (read with Options.ReadFile).
	LogKey string
	// WitnessPolicy is a C2SP tlog-policy file whose quorum must have
	// cosigned the anchor's checkpoint (read with Options.ReadFile).
	WitnessPolicy string
}

func (a AnchorOptions) asked() bool { return a.Require || a.LogKey != "" || a.WitnessPolicy != "" }

// DefaultMinCoverage is the reference's default --min-coverage.
const DefaultMinCoverage = 0.8

// Pack verifies the pack or bundle at path. The error is non-nil only for
// bad input (exit 3); every verdict is in the result.
func Pack(path string, o Options) (*verify.Result, error) {
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.CoverageContract != "" {
		if math.IsNaN(o.MinCoverage) || o.MinCoverage < 0 || o.MinCoverage > 1 {
			return nil, exit.Bad("give a fraction between 0 and 1, e.g. 0.8", "--min-coverage must be within 0..1, got %v", o.MinCoverage)
		}
		g, err := newCoverageGate(o.CoverageContract, o.MinCoverage, o.ReadFile)
		if err != nil {
			return nil, err
		}
		o.Gates = append(o.Gates, g)
	}
	if o.LockPath != "" {
		g, err := newLockGate(o.LockPath, o.ReadFile)
		if err != nil {
			return nil, err
		}
		o.Gates = append([]verify.GateCheck{g}, o.Gates...)
	}
	var anchor *tlog.Gate
	if o.Anchor.asked() {
		g, err := newAnchorGate(o.Anchor, o.ReadFile)
		if err != nil {
			return nil, err
		}
		anchor = g
		o.Gates = append(o.Gates, g)
	}
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() && !bundle.IsBundle(path) {
		return nil, exit.Bad("give the pack directory, or an audit bundle .tar.gz", "not a pack directory or audit bundle: %s", path)
	}
	isBundle := bundle.IsBundle(path)
	if isBundle {
		d, cleanup, err := bundle.ExtractTemp(path)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		dir = d
	}
	r, err := verify.Verify(dir, o.Options)
	if err != nil {
		return nil, err
	}
	r.Path = path
	if isBundle {
		r.Warnings = bundleWarnings(r.Warnings)
	}
	annotateAnchor(r, anchor)
	return r, nil
}

// bundleWarnings replaces the verifier's one warning per file a bundle adds
// at the pack root ("Unexpected top-level pack entry ignored: SIGNER_INFO.json",
// ...), which every bundle has, with one note saying what those files are.
func bundleWarnings(ws []string) []string {
	out := make([]string, 0, len(ws))
	dropped := false
	for _, w := range ws {
		if i := strings.LastIndex(w, ": "); i >= 0 && bundle.Added(w[i+2:]) {
			dropped = true
			continue
		}
		out = append(out, w)
	}
	if dropped {
		out = append([]string{"Audit bundle: " + bundle.FileSignerInfo + ", " + bundle.FileSummary + ", " + bundle.FileInstructions + " and " + bundle.FileResult +
			" were added when it was bundled; they are not covered by the pack's signature"}, out...)
	}
	return out
}

// coverageGate measures receipt callsite ids against a contract.
type coverageGate struct {
	contract *coverage.Contract
	min      float64
	hashErr  error
}

func newCoverageGate(path string, min float64, read func(string) ([]byte, error)) (*coverageGate, error) {
	c, err := coverage.LoadWith(path, read)
	if err != nil {
		if exit.Code(err) == exit.Tampered {
			// A contract whose own hash is wrong is tampering (exit 2), reported
			// as a verification error rather than bad input.
			return &coverageGate{hashErr: err, min: min}, nil
		}
		return nil, err
	}
	return &coverageGate{contract: c, min: min}, nil
}

func (g *coverageGate) Name() string { return "coverage" }

func (g *coverageGate) Run(r *verify.Result, _ *canon.Object) []verify.Error {
	if g.hashErr != nil {
		return []verify.Error{verify.NewError(verify.EContractTamper, "contract_hash", verify.StageCoverage, g.hashErr.Error(), false)}
	}
	rep := coverage.Measure(g.contract, r.CallsiteIDs)
	rep.Explain(coverage.Unattributed{ModelCalls: r.ModelCallsWithoutCallsite})
	r.Coverage = &verify.Coverage{
		CoveredIDs: rep.CoveredIDs, UncoveredIDs: rep.UncoveredIDs, ExtraIDs: rep.ExtraIDs,
		CoveragePct: rep.CoveragePct, CoveredCount: rep.CoveredCount, TotalCount: rep.TotalCount,
		MinCoverage: g.min, Passed: rep.Fraction >= g.min,
		Unattributed: rep.Unattributed, Note: rep.Note,
	}
	if rep.Fraction >= g.min {
		return nil
	}
	msg := fmt.Sprintf("Call-site coverage %s (%d/%d) is below --min-coverage %s; uncovered: %s",
		coverage.Percent(rep.Fraction), rep.CoveredCount, rep.TotalCount, coverage.Percent(g.min), strings.Join(first(rep.UncoveredIDs, 10), ", "))
	if rep.Note != "" {
		msg += "; " + rep.Note
	}
	return []verify.Error{verify.NewError(verify.ECoverage, "callsite_id", verify.StageCoverage, msg, true)}
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d more", len(s)-n))
	}
	return s
}
