package tools

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/assay-dev/assay/core/explain"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

// Output bounds: lists longer than this are cut and counted.
const (
	defaultLimit = 20
	maxLimit     = 200
)

// VerifyArgs are the arguments of verify-pack: the CLI's flags, filling
// the same ops.VerifyRequest (absent numbers take the one default; an
// explicit 0 is 0).
type VerifyArgs struct {
	Path              string   `json:"path" jsonschema:"description=Pack directory or audit bundle (.tar.gz)"`
	RequireClaimPass  bool     `json:"require_claim_pass,omitempty" jsonschema:"description=Fail (exit 1) unless the signed claim_check is PASS"`
	IntegrityOnly     bool     `json:"integrity_only,omitempty" jsonschema:"description=Report claims without gating on them"`
	MaxAgeHours       *float64 `json:"max_age_hours,omitempty" jsonschema:"description=Fail packs older than this many hours,exclusiveMinimum=0"`
	RequireCIBinding  bool     `json:"require_ci_binding,omitempty" jsonschema:"description=Fail packs without a CI binding"`
	ExpectedCommitSHA string   `json:"expected_commit_sha,omitempty" jsonschema:"description=40-hex commit the CI binding must name"`
	CheckExpiry       bool     `json:"check_expiry,omitempty" jsonschema:"description=Fail packs past their valid_until"`
	Lock              string   `json:"lock,omitempty" jsonschema:"description=Lockfile to enforce (mismatch: exit 2)"`
	CoverageContract  string   `json:"coverage_contract,omitempty" jsonschema:"description=Coverage contract to gate call-site coverage"`
	MinCoverage       *float64 `json:"min_coverage,omitempty" jsonschema:"description=Minimum coverage 0..1 with coverage_contract (absent: 0.8; 0 means 0),minimum=0,maximum=1"`
	RequireAnchor     bool     `json:"require_anchor,omitempty" jsonschema:"description=Fail (exit 1) unless the pack carries a transparency-log anchor (_unsigned/anchor.json); an anchor that does not verify is exit 2"`
	LogKey            string   `json:"log_key,omitempty" jsonschema:"description=Pin the log's public key: a note vkey (name+id+key) or a file holding one"`
	WitnessPolicy     string   `json:"witness_policy,omitempty" jsonschema:"description=Witness policy file (C2SP tlog-policy) whose quorum must have cosigned the anchor's checkpoint"`
	Signer            string   `json:"signer,omitempty" jsonschema:"description=Verify a pack that embeds no public key with this keystore signer's key (the keystore is never consulted otherwise)"`
}

func (a VerifyArgs) request() ops.VerifyRequest {
	return ops.VerifyRequest{
		Path: a.Path, RequireClaimPass: a.RequireClaimPass, IntegrityOnly: a.IntegrityOnly, MaxAgeHours: a.MaxAgeHours,
		RequireCIBinding: a.RequireCIBinding, ExpectedCommitSHA: a.ExpectedCommitSHA, CheckExpiry: a.CheckExpiry,
		Lock: a.Lock, CoverageContract: a.CoverageContract, MinCoverage: a.MinCoverage,
		RequireAnchor: a.RequireAnchor, LogKey: a.LogKey, WitnessPolicy: a.WitnessPolicy, Signer: a.Signer,
	}
}

// VerifyResult is what verify-pack returns: the document 'assay verify-pack
// --json' prints (schemas/verify-result.schema.json).
type VerifyResult = verify.Result

func verifyTool() Tool {
	return newTool("verify-pack", "Verify a proof pack",
		"Verify a proof pack or audit bundle offline (signature, hashes, receipts, claims, optional gates). Returns the verdict, exit code (0 pass, 1 honest failure, 2 tampered), errors and what the pack proves: the same document as 'assay verify-pack --json'.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a VerifyArgs) (*VerifyResult, string, error) {
			req := a.request()
			var err error
			// Every path is resolved inside the roots; the files are then
			// read through the roots too (ReadFile).
			if req.Path, err = c.PackPath(ctx, a.Path); err != nil {
				return nil, "", err
			}
			for _, p := range []*string{&req.Lock, &req.WitnessPolicy, &req.CoverageContract} {
				if *p != "" {
					if *p, err = c.Path(ctx, *p); err != nil {
						return nil, "", err
					}
				}
			}
			if a.LogKey != "" && !isVKey(a.LogKey) {
				// A file holding the key: inside the roots like every path.
				if req.LogKey, err = c.Path(ctx, a.LogKey); err != nil {
					return nil, "", err
				}
			}
			r, err := ops.Verify(req, ops.Env{Home: c.Server.home, ReadFile: c.Server.roots.readFile})
			if err != nil {
				return nil, "", err
			}
			sum := fmt.Sprintf("%s (exit %d): %s, %d receipts, signer %s", r.Verdict, r.ExitCode, r.Path, r.ReceiptCount, r.Pack.SignerID)
			if r.ErrorCount > 0 {
				sum += fmt.Sprintf("; %d errors, first: %s %s", r.ErrorCount, r.Errors[0].Code, r.Errors[0].Message)
			}
			return r, sum, nil
		})
}

// ExplainArgs are the arguments of explain-pack.
type ExplainArgs struct {
	Path string `json:"path" jsonschema:"description=Pack directory or audit bundle (.tar.gz)"`
}

// ExplainResult is what explain-pack returns: the document 'assay explain
// --json' prints. The Markdown explanation is the text content.
type ExplainResult = explain.Explanation

func explainTool() Tool {
	return newTool("explain-pack", "Explain a proof pack",
		"Say in plain words what a pack records (receipts, models, tokens, time range), whether it is intact, how its claims came out, and what it does and does not prove. The text content is the Markdown explanation; the structured content is the same document as 'assay explain --json'.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a ExplainArgs) (*ExplainResult, string, error) {
			p, err := c.PackPath(ctx, a.Path)
			if err != nil {
				return nil, "", err
			}
			e, err := ops.Explain(ops.ExplainRequest{Path: p})
			if err != nil {
				return nil, "", err
			}
			return e, clip(e.Text(true), maxExplanation), nil
		})
}

func limitOr(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return min(n, maxLimit)
}

// bound cuts a list to n items (callers report the total where it matters).
func bound[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// maxExplanation bounds explain-pack's Markdown.
const maxExplanation = 16 << 10

// clip cuts s to n bytes (on a rune boundary) and says so.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "\n… (cut at " + strconv.Itoa(n) + " bytes; the structured fields have the rest)"
}

// isVKey reports whether s is a note verifier key itself rather than a path.
func isVKey(s string) bool {
	_, err := tlog.CheckLogKey(s)
	return err == nil
}
