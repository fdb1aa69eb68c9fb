package verify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/tlog"
)

// The gates built from files the user names: the lockfile, the coverage
// contract and the transparency-log anchor. They are verify stages (their
// stages and error codes are verify's), so they live here; core/lock,
// core/coverage and core/tlog know nothing of verify. read reads the named
// files (the MCP server passes a reader confined to its roots).

// DefaultMinCoverage is the reference's default --min-coverage.
const DefaultMinCoverage = 0.8

// NewLockGate enforces a lockfile: an invalid lockfile is bad input (exit
// 3); a pack that does not satisfy it (format, claim set, signer allowlist)
// is exit 2 (DECISIONS 6, 15).
func NewLockGate(path string, read func(string) ([]byte, error)) (GateCheck, error) {
	l, err := lock.LoadWith(path, read)
	if err != nil {
		return nil, err
	}
	if issues := lock.Validate(l); len(issues) > 0 {
		return nil, exit.Bad("rewrite it with 'assay lock write' and check it with 'assay lock check'", "invalid lockfile %s: %s", path, strings.Join(issues, "; "))
	}
	return &lockGate{l: l}, nil
}

type lockGate struct{ l *lock.Lock }

func (g *lockGate) Name() string { return "lock" }

func (g *lockGate) Run(r *Result, p *pack.Pack) []Error {
	// A signer is proven only by the public key embedded in the pack, its
	// fingerprint recomputed by the verifier (DECISIONS 20): a pack with no
	// embedded key, verified against the local keystore, satisfies no
	// allowlist, and the manifest's signer_pubkey_sha256 claim is not read.
	fp := ""
	if r.Pack.SignerKey == "embedded" {
		fp = r.Pack.Fingerprint
	}
	m := lock.Manifest{PackFormatVersion: r.Pack.FormatVersion, ClaimSetHash: p.Manifest.ClaimSetHash, SignerPubkeySHA256: fp}
	var errs []Error
	for _, mm := range lock.Compare(g.l, m) {
		r.LockErrors = append(r.LockErrors, mm.String())
		errs = append(errs, NewError(ELockMismatch, mm.Field, StageLock, mm.String(), false))
	}
	return errs
}

// NewCoverageGate measures the receipts' callsite ids against a contract
// and fails below min. A contract whose own hash is wrong is tampering
// (exit 2), reported as a verification error rather than bad input.
func NewCoverageGate(path string, min float64, read func(string) ([]byte, error)) (GateCheck, error) {
	c, err := coverage.LoadWith(path, read)
	if err != nil {
		if exit.Code(err) == exit.Tampered {
			return &coverageGate{hashErr: err, min: min}, nil
		}
		return nil, err
	}
	return &coverageGate{contract: c, min: min}, nil
}

type coverageGate struct {
	contract *coverage.Contract
	min      float64
	hashErr  error
}

func (g *coverageGate) Name() string { return "coverage" }

func (g *coverageGate) Run(r *Result, _ *pack.Pack) []Error {
	if g.hashErr != nil {
		return []Error{NewError(EContractTamper, "contract_hash", StageCoverage, g.hashErr.Error(), false)}
	}
	rep := coverage.Measure(g.contract, r.CallsiteIDs)
	rep.Explain(coverage.Unattributed{ModelCalls: r.ModelCallsWithoutCallsite, Gateway: r.GatewayCallsWithoutCallsite})
	r.Coverage = &Coverage{
		CoveredIDs: rep.CoveredIDs, UncoveredIDs: rep.UncoveredIDs, ExtraIDs: rep.ExtraIDs,
		CoveragePct: rep.CoveragePct, CoveredCount: rep.CoveredCount, TotalCount: rep.TotalCount,
		MinCoverage: g.min, Passed: rep.Fraction >= g.min,
		Unattributed: rep.Unattributed, Note: rep.Note,
	}
	if rep.Fraction >= g.min {
		return nil
	}
	msg := fmt.Sprintf("Call-site coverage %s (%d/%d) is below --min-coverage %s; uncovered: %s",
		coverage.Percent(rep.Fraction), rep.CoveredCount, rep.TotalCount, coverage.Percent(g.min), strings.Join(g.contract.Locate(firstN(rep.UncoveredIDs, 10)), ", "))
	if rep.Note != "" {
		msg += "; " + rep.Note
	}
	return []Error{NewError(ECoverage, "callsite_id", StageCoverage, msg, true)}
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d more", len(s)-n))
	}
	return s
}

// AnchorOptions ask for the anchor gate: a missing anchor fails it (exit 1)
// when Require is set; an anchor that does not verify is exit 2.
type AnchorOptions struct {
	Require bool
	// LogKey pins the log's public key: a vkey, or a file holding one.
	LogKey string
	// WitnessPolicy is a C2SP tlog-policy file whose quorum must have
	// cosigned the anchor's checkpoint.
	WitnessPolicy string
}

// Asked reports whether any anchor option was given.
func (a AnchorOptions) Asked() bool { return a.Require || a.LogKey != "" || a.WitnessPolicy != "" }

// AnchorGate checks a pack's transparency-log anchor (core/tlog).
type AnchorGate struct {
	opts     tlog.VerifyOptions
	required bool
	// Result is filled when the anchor verified.
	Result *tlog.Verification
}

// NewAnchorGate reads the log key file and the witness policy with read.
func NewAnchorGate(a AnchorOptions, read func(string) ([]byte, error)) (*AnchorGate, error) {
	g := &AnchorGate{required: a.Require}
	if a.LogKey != "" {
		k := strings.TrimSpace(a.LogKey)
		if _, err := tlog.CheckLogKey(k); err != nil {
			// Not a vkey itself: a file holding one.
			b, rerr := read(k)
			if rerr != nil {
				return nil, exit.Bad("give the log's vkey (name+id+key) or a file holding it", "log key (--log-key): not a note vkey, and %v", rerr)
			}
			if k, err = tlog.CheckLogKey(string(b)); err != nil {
				return nil, err
			}
		}
		g.opts.LogKey = k
	}
	if a.WitnessPolicy != "" {
		b, err := read(a.WitnessPolicy)
		if err != nil {
			return nil, exit.Bad("give a witness policy file (C2SP tlog-policy)", "witness policy (--witness-policy): %v", err)
		}
		p, err := tlog.ParsePolicy(b)
		if err != nil {
			return nil, exit.Bad("fix the witness policy (see docs/anchoring.md)", "%s: %v", a.WitnessPolicy, err)
		}
		g.opts.Policy = p
	}
	return g, nil
}

func (g *AnchorGate) Name() string { return "anchor" }

// Run verifies the anchor of the pack in p.Dir (a bundle's extracted copy).
func (g *AnchorGate) Run(r *Result, p *pack.Pack) []Error {
	v, err := tlog.VerifyAnchor(p.Dir, g.opts)
	if errors.Is(err, tlog.ErrNoAnchor) && !g.required {
		return nil
	}
	if errors.Is(err, tlog.ErrNoAnchor) {
		return []Error{NewError(EAnchorMissing, tlog.AnchorFile, StageAnchor,
			"No transparency-log anchor: run 'assay anchor "+r.Path+"' first", true)}
	}
	if err != nil {
		return []Error{NewError(EAnchorInvalid, tlog.AnchorFile, StageAnchor, err.Error(), false)}
	}
	g.Result = v
	return nil
}

// Annotate puts what a passed anchor gate proved in its detail, so the CLI
// and the MCP tool show the same line.
func (g *AnchorGate) Annotate(r *Result) {
	for i := range r.Gates {
		if r.Gates[i].Name != g.Name() || !r.Gates[i].Passed {
			continue
		}
		if g.Result != nil {
			r.Gates[i].Detail = g.Result.Summary()
		} else {
			r.Gates[i].Detail = "no anchor (not required)"
		}
	}
}
