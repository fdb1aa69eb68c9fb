package tools

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/assay-dev/assay/core/check"
	"github.com/assay-dev/assay/core/explain"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

// Output bounds: lists longer than this are cut and counted.
const (
	defaultLimit = 20
	maxLimit     = 200
)

// VerifyArgs are the arguments of verify-pack: the CLI's gates.
type VerifyArgs struct {
	Path              string  `json:"path" jsonschema:"description=Pack directory or audit bundle (.tar.gz)"`
	RequireClaimPass  bool    `json:"require_claim_pass,omitempty" jsonschema:"description=Fail (exit 1) unless the signed claim_check is PASS"`
	IntegrityOnly     bool    `json:"integrity_only,omitempty" jsonschema:"description=Report claims without gating on them"`
	MaxAgeHours       float64 `json:"max_age_hours,omitempty" jsonschema:"description=Fail packs older than this many hours,minimum=0"`
	RequireCIBinding  bool    `json:"require_ci_binding,omitempty" jsonschema:"description=Fail packs without a CI binding"`
	ExpectedCommitSHA string  `json:"expected_commit_sha,omitempty" jsonschema:"description=40-hex commit the CI binding must name"`
	CheckExpiry       bool    `json:"check_expiry,omitempty" jsonschema:"description=Fail packs past their valid_until"`
	Lock              string  `json:"lock,omitempty" jsonschema:"description=Lockfile to enforce (mismatch: exit 2)"`
	CoverageContract  string  `json:"coverage_contract,omitempty" jsonschema:"description=Coverage contract to gate call-site coverage"`
	MinCoverage       float64 `json:"min_coverage,omitempty" jsonschema:"description=Minimum coverage 0..1 with coverage_contract (default 0.8),minimum=0,maximum=1"`
	Limit             int     `json:"limit,omitempty" jsonschema:"description=Maximum errors listed (default 20),minimum=1,maximum=200"`
	RequireAnchor     bool    `json:"require_anchor,omitempty" jsonschema:"description=Fail (exit 1) unless the pack carries a transparency-log anchor (_unsigned/anchor.json); an anchor that does not verify is exit 2"`
	LogKey            string  `json:"log_key,omitempty" jsonschema:"description=Pin the log's public key: a note vkey (name+id+key) or a file holding one"`
	WitnessPolicy     string  `json:"witness_policy,omitempty" jsonschema:"description=Witness policy file (C2SP tlog-policy) whose quorum must have cosigned the anchor's checkpoint"`
}

// PackError is one verification error.
type PackError struct {
	Code         string `json:"code"`
	Stage        string `json:"stage"`
	Field        string `json:"field,omitempty"`
	Message      string `json:"message"`
	ReceiptIndex *int   `json:"receipt_index,omitempty"`
}

// GateOutcome is one requested gate.
type GateOutcome struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// TypeCount is how many receipts of one type a pack holds.
type TypeCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// VerifyResult is what verify-pack returns.
type VerifyResult struct {
	Verdict      string        `json:"verdict" jsonschema:"enum=PASS,enum=HONEST_FAIL,enum=TAMPERED"`
	ExitCode     int           `json:"exit_code" jsonschema:"description=0 intact and claims met; 1 honest failure; 2 tampered"`
	Integrity    string        `json:"integrity_verdict"`
	ClaimVerdict string        `json:"claim_verdict"`
	Path         string        `json:"path"`
	PackID       string        `json:"pack_id"`
	RunID        string        `json:"run_id"`
	SignerID     string        `json:"signer_id"`
	Fingerprint  string        `json:"signer_fingerprint"`
	ReceiptCount int           `json:"receipt_count"`
	ReceiptTypes []TypeCount   `json:"receipt_types"`
	Errors       []PackError   `json:"errors"`
	ErrorsTotal  int           `json:"errors_total"`
	Warnings     []string      `json:"warnings"`
	Gates        []GateOutcome `json:"gates"`
	Proves       []string      `json:"proves"`
	DoesNotProve []string      `json:"does_not_prove"`
}

func verifyTool() Tool {
	return newTool("verify-pack", "Verify a proof pack",
		"Verify a proof pack or audit bundle offline (signature, hashes, receipts, claims, optional gates). Returns the verdict, exit code (0 pass, 1 honest failure, 2 tampered), errors and what the pack proves.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a VerifyArgs) (VerifyResult, string, error) {
			p, err := c.PackPath(ctx, a.Path)
			if err != nil {
				return VerifyResult{}, "", err
			}
			o := check.Options{Options: verify.Options{
				RequireClaimPass: a.RequireClaimPass, IntegrityOnly: a.IntegrityOnly, MaxAgeHours: a.MaxAgeHours,
				RequireCIBinding: a.RequireCIBinding, ExpectedCommitSHA: a.ExpectedCommitSHA, CheckExpiry: a.CheckExpiry,
			}, MinCoverage: a.MinCoverage, ReadFile: c.Server.roots.readFile}
			if a.Lock != "" {
				if o.LockPath, err = c.Path(ctx, a.Lock); err != nil {
					return VerifyResult{}, "", err
				}
			}
			o.Anchor = verify.AnchorOptions{Require: a.RequireAnchor, LogKey: a.LogKey}
			if a.WitnessPolicy != "" {
				if o.Anchor.WitnessPolicy, err = c.Path(ctx, a.WitnessPolicy); err != nil {
					return VerifyResult{}, "", err
				}
			}
			if a.LogKey != "" && !isVKey(a.LogKey) {
				// A file holding the key: inside the roots like every path.
				if o.Anchor.LogKey, err = c.Path(ctx, a.LogKey); err != nil {
					return VerifyResult{}, "", err
				}
			}
			if a.CoverageContract != "" {
				if o.CoverageContract, err = c.Path(ctx, a.CoverageContract); err != nil {
					return VerifyResult{}, "", err
				}
				if o.MinCoverage == 0 {
					o.MinCoverage = verify.DefaultMinCoverage
				}
			}
			r, err := check.Pack(p, o)
			if err != nil {
				return VerifyResult{}, "", err
			}
			res := VerifyResult{
				Verdict: r.Verdict, ExitCode: r.ExitCode, Integrity: r.Integrity, ClaimVerdict: r.ClaimVerdict,
				Path: r.Path, PackID: r.Pack.PackID, RunID: r.Pack.RunID, SignerID: r.Pack.SignerID, Fingerprint: r.Pack.Fingerprint,
				ReceiptCount: r.ReceiptCount, ReceiptTypes: typeCounts(r.TypeCounts),
				Proves: nonNil(r.Proves), DoesNotProve: nonNil(r.DoesNotProve),
			}
			res.Errors, res.ErrorsTotal = packErrors(r.Errors, a.Limit)
			res.Warnings = bound(nonNil(r.Warnings), limitOr(a.Limit))
			res.Gates = []GateOutcome{}
			for _, g := range r.Gates {
				res.Gates = append(res.Gates, GateOutcome{Name: g.Name, Passed: g.Passed, Detail: g.Detail})
			}
			sum := fmt.Sprintf("%s (exit %d): %s, %d receipts, signer %s", res.Verdict, res.ExitCode, res.Path, res.ReceiptCount, res.SignerID)
			if res.ErrorsTotal > 0 {
				sum += fmt.Sprintf("; %d errors, first: %s %s", res.ErrorsTotal, res.Errors[0].Code, res.Errors[0].Message)
			}
			return res, sum, nil
		})
}

// ExplainArgs are the arguments of explain-pack.
type ExplainArgs struct {
	Path string `json:"path" jsonschema:"description=Pack directory or audit bundle (.tar.gz)"`
}

// ModelUse aggregates one model's calls in a pack.
type ModelUse struct {
	Model        string `json:"model"`
	Provider     string `json:"provider,omitempty"`
	Calls        int    `json:"calls"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Errors       int    `json:"errors"`
}

// ClaimOutcome is one evaluated claim.
type ClaimOutcome struct {
	ClaimID  string `json:"claim_id"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Severity string `json:"severity"`
}

// ExplainResult is what explain-pack returns.
type ExplainResult struct {
	Explanation    string         `json:"explanation" jsonschema:"description=Plain-words Markdown explanation"`
	Verdict        string         `json:"verdict"`
	ExitCode       int            `json:"exit_code"`
	PackID         string         `json:"pack_id"`
	RunID          string         `json:"run_id"`
	Integrity      string         `json:"integrity_verdict"`
	ClaimCheck     string         `json:"claim_check"`
	SignerID       string         `json:"signer_id"`
	TimestampStart string         `json:"timestamp_start"`
	TimestampEnd   string         `json:"timestamp_end"`
	Receipts       int            `json:"receipts"`
	ReceiptTypes   []TypeCount    `json:"receipt_types"`
	Models         []ModelUse     `json:"models"`
	Claims         []ClaimOutcome `json:"claims"`
	Proves         []string       `json:"proves"`
	DoesNotProve   []string       `json:"does_not_prove"`
}

func explainTool() Tool {
	return newTool("explain-pack", "Explain a proof pack",
		"Say in plain words what a pack records (receipts, models, tokens, time range), whether it is intact, how its claims came out, and what it does and does not prove.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a ExplainArgs) (ExplainResult, string, error) {
			p, err := c.PackPath(ctx, a.Path)
			if err != nil {
				return ExplainResult{}, "", err
			}
			e, err := explain.Pack(p)
			if err != nil {
				return ExplainResult{}, "", err
			}
			res := ExplainResult{
				Explanation: clip(e.Text(true), maxExplanation), Verdict: e.Verdict, ExitCode: e.ExitCode, PackID: e.PackID, RunID: e.RunID,
				Integrity: e.Integrity, ClaimCheck: e.ClaimCheck, SignerID: e.Signer,
				TimestampStart: e.TimestampStart, TimestampEnd: e.TimestampEnd, Receipts: e.Receipts,
				ReceiptTypes: typeCounts(e.Types), Models: []ModelUse{}, Claims: []ClaimOutcome{},
				Proves: nonNil(e.Proves), DoesNotProve: nonNil(e.DoesNotProve),
			}
			for _, m := range bound(e.Models, maxLimit) {
				res.Models = append(res.Models, ModelUse(m))
			}
			if e.Claims != nil {
				for _, cl := range bound(e.Claims.Results, maxLimit) {
					res.Claims = append(res.Claims, ClaimOutcome{ClaimID: cl.ClaimID, Passed: cl.Passed, Expected: cl.Expected, Actual: cl.Actual, Severity: cl.Severity})
				}
			}
			return res, res.Explanation, nil
		})
}

func packErrors(errs []verify.Error, limit int) ([]PackError, int) {
	out := []PackError{}
	for _, e := range bound(errs, limitOr(limit)) {
		out = append(out, PackError{Code: e.Code, Stage: e.Stage, Field: e.Field, Message: e.Message, ReceiptIndex: e.ReceiptIndex})
	}
	return out, len(errs)
}

func typeCounts(m map[string]int) []TypeCount {
	out := []TypeCount{}
	for t, n := range m {
		out = append(out, TypeCount{t, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return bound(out, maxLimit)
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
