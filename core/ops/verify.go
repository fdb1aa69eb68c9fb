package ops

import (
	"math"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/verify"
)

// VerifyRequest asks to verify a pack directory or audit bundle with gates.
// Optional numbers are pointers: absent means "use the default" and an
// explicit 0 means 0.
type VerifyRequest struct {
	Path              string
	RequireClaimPass  bool
	IntegrityOnly     bool
	MaxAgeHours       *float64
	RequireCIBinding  bool
	ExpectedCommitSHA string
	CheckExpiry       bool
	Lock              string
	CoverageContract  string
	// MinCoverage is the coverage floor (0..1) with CoverageContract;
	// nil means DefaultMinCoverage.
	MinCoverage   *float64
	RequireAnchor bool
	LogKey        string
	WitnessPolicy string
	// Signer names a keystore signer whose public key may verify a pack
	// that carries no embedded key. Without it the keystore is never
	// consulted (DECISIONS 20: only the embedded key proves a signer), and
	// even with it such a pack never satisfies a lock's signer allowlist.
	Signer string
}

// DefaultMinCoverage is the coverage floor when none is given.
const DefaultMinCoverage = verify.DefaultMinCoverage

// Options validates the request and applies its defaults.
func (r VerifyRequest) Options(env Env) (verify.PathOptions, error) {
	var o verify.PathOptions
	if strings.TrimSpace(r.Path) == "" {
		return o, exit.Bad("give the pack directory or audit bundle", "no pack given")
	}
	if r.MaxAgeHours != nil && (math.IsNaN(*r.MaxAgeHours) || *r.MaxAgeHours <= 0) {
		return o, exit.Bad("give a positive number of hours", "max age hours (--max-age-hours, max_age_hours) must be > 0, got %v", *r.MaxAgeHours)
	}
	o.MinCoverage = DefaultMinCoverage
	if r.MinCoverage != nil {
		if r.CoverageContract == "" {
			// Without a contract there is nothing to measure: a silently
			// ignored gate would read as a passed one.
			return o, exit.Bad("add a coverage contract (from 'assay scan --emit-contract FILE')", "min coverage (--min-coverage, min_coverage) needs a coverage contract (--coverage-contract, coverage_contract)")
		}
		if m := *r.MinCoverage; math.IsNaN(m) || m < 0 || m > 1 {
			return o, exit.Bad("give a fraction between 0 and 1, e.g. 0.8", "min coverage (--min-coverage, min_coverage) must be within 0..1, got %v", m)
		}
		o.MinCoverage = *r.MinCoverage
	}
	if r.Signer != "" {
		if err := keys.ValidID(r.Signer); err != nil {
			return o, exit.Bad("name a signer from 'assay key list'", "signer %q: %v", r.Signer, err)
		}
		if env.Home == "" {
			return o, exit.Bad("set ASSAY_HOME", "no assay home to find signer %q in", r.Signer)
		}
		o.Keystore = keys.Open(env.Home)
		o.KeystoreSigner = r.Signer
	}
	o.RequireClaimPass, o.IntegrityOnly = r.RequireClaimPass, r.IntegrityOnly
	if r.MaxAgeHours != nil {
		o.MaxAgeHours = *r.MaxAgeHours
	}
	o.RequireCIBinding, o.ExpectedCommitSHA, o.CheckExpiry = r.RequireCIBinding, r.ExpectedCommitSHA, r.CheckExpiry
	o.LockPath, o.CoverageContract = r.Lock, r.CoverageContract
	o.Anchor = verify.AnchorOptions{Require: r.RequireAnchor, LogKey: r.LogKey, WitnessPolicy: r.WitnessPolicy}
	o.ReadFile = env.readFile()
	return o, nil
}

// Verify runs the request. The error is non-nil only for bad input (exit
// 3); every verdict is in the result, the one document both front ends
// print (schemas/verify-result.schema.json).
func Verify(r VerifyRequest, env Env) (*verify.Result, error) {
	o, err := r.Options(env)
	if err != nil {
		return nil, err
	}
	return verify.VerifyPath(r.Path, o)
}
