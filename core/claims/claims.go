// Package claims evaluates run cards over a pack's receipts, as the
// reference does (pack-format.md §6): each claim names a check function and
// its params; the flattened claim list hashes to claim_set_hash; the results
// hash to the discrepancy fingerprint.
package claims

import (
	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// Severity values. Only critical failures make a claim set FAIL.
const (
	Critical = "critical"
	Warning  = "warning"
)

// Falsifier is the optional falsifier of a claim (hashed when set).
type Falsifier struct {
	Description       string `json:"description"`
	TestCommand       string `json:"test_command,omitempty"`
	EvaluationSurface string `json:"evaluation_surface"`
	Executed          bool   `json:"executed"`
}

// Claim is one claim spec.
type Claim struct {
	ClaimID     string         `json:"claim_id"`
	Description string         `json:"description"`
	Check       string         `json:"check"`
	Params      map[string]any `json:"params"`
	Severity    string         `json:"severity"`
	Falsifier   *Falsifier     `json:"falsifier,omitempty"`
}

// Card is a run card: a named list of claims.
type Card struct {
	CardID      string  `json:"card_id"`
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Claims      []Claim `json:"claims"`
}

// Result is one evaluated claim.
type Result struct {
	ClaimID            string   `json:"claim_id"`
	Passed             bool     `json:"passed"`
	Expected           string   `json:"expected"`
	Actual             string   `json:"actual"`
	Severity           string   `json:"severity"`
	EvidenceReceiptIDs []string `json:"evidence_receipt_ids"`
	FalsifierStatus    string   `json:"falsifier_status"`
}

// Verification is the claim_verification object of verify_report.json.
type Verification struct {
	Passed                 bool     `json:"passed"`
	NClaims                int      `json:"n_claims"`
	NPassed                int      `json:"n_passed"`
	NFailed                int      `json:"n_failed"`
	DiscrepancyFingerprint string   `json:"discrepancy_fingerprint"`
	Results                []Result `json:"results"`
}

// Env is what checks may read besides the receipts.
type Env struct {
	// Dir is the directory relative paths in params (a coverage contract)
	// resolve against; the reference uses the working directory at build time.
	Dir string
}

// spec is the hashed form of a claim (pack-format.md §6.3).
func (c Claim) spec() map[string]any {
	params := c.Params
	if params == nil {
		params = map[string]any{}
	}
	m := map[string]any{
		"claim_id":    c.ClaimID,
		"description": c.Description,
		"check":       c.Check,
		"params":      params,
		"severity":    c.Severity,
	}
	if c.Falsifier != nil {
		f := map[string]any{
			"description":        c.Falsifier.Description,
			"evaluation_surface": c.Falsifier.EvaluationSurface,
			"executed":           c.Falsifier.Executed,
		}
		if c.Falsifier.TestCommand != "" {
			f["test_command"] = c.Falsifier.TestCommand
		}
		m["falsifier"] = f
	}
	return m
}

// SetHash is claim_set_hash: sha256hex of the canonical list of claim specs.
func SetHash(claims []Claim) (string, error) {
	specs := make([]any, len(claims))
	for i, c := range claims {
		specs[i] = c.spec()
	}
	b, err := canon.Marshal(specs)
	if err != nil {
		return "", err
	}
	return receipt.SHA256Hex(b), nil
}

// Flatten concatenates the claims of cards in order.
func Flatten(cards []*Card) []Claim {
	var out []Claim
	for _, c := range cards {
		out = append(out, c.Claims...)
	}
	return out
}

// Fingerprint is the discrepancy fingerprint: sha256hex of the canonical
// {policy_hash, suite_hash, results (claim_id, passed, expected, actual,
// severity), sorted by claim_id}.
func Fingerprint(policyHash, suiteHash string, results []Result) (string, error) {
	rs := make([]any, len(results))
	idx := make([]int, len(results))
	for i := range idx {
		idx[i] = i
	}
	sortStable(idx, func(a, b int) bool { return results[a].ClaimID < results[b].ClaimID })
	for i, j := range idx {
		r := results[j]
		rs[i] = map[string]any{"claim_id": r.ClaimID, "passed": r.Passed, "expected": r.Expected, "actual": r.Actual, "severity": r.Severity}
	}
	b, err := canon.Marshal(map[string]any{"policy_hash": policyHash, "suite_hash": suiteHash, "results": rs})
	if err != nil {
		return "", err
	}
	return receipt.SHA256Hex(b), nil
}

// Evaluate runs every claim over the receipts (in pack order) and returns the
// claim_verification object.
func Evaluate(claims []Claim, receipts []*receipt.Receipt, env Env, policyHash, suiteHash string) (*Verification, error) {
	return assemble(claims, func(_ int, c Claim) Result { return evaluateOne(c, receipts, env) }, policyHash, suiteHash)
}

// CheckFunc evaluates one claim's params over the receipts. It fills
// Passed, Expected, Actual and EvidenceReceiptIDs.
type CheckFunc func(params map[string]any, receipts []*receipt.Receipt, env Env) Result

// checks is the table of check functions by name; each check registers
// itself (see checks.go).
var checks = map[string]CheckFunc{}

func evaluateOne(c Claim, receipts []*receipt.Receipt, env Env) Result {
	sev := c.Severity
	if sev == "" {
		sev = Critical
	}
	if sev != Critical && sev != Warning {
		return Result{ClaimID: c.ClaimID, Passed: false, Expected: "severity is critical or warning", Actual: "unknown severity " + sev, Severity: Critical}
	}
	fn, ok := checks[c.Check]
	if !ok {
		return Result{ClaimID: c.ClaimID, Passed: false, Expected: "check function '" + c.Check + "' exists", Actual: "unknown check function", Severity: sev}
	}
	params := c.Params
	if params == nil {
		params = map[string]any{}
	}
	r := fn(params, receipts, env)
	r.ClaimID = c.ClaimID
	r.Severity = sev
	return r
}

func sortStable(idx []int, less func(a, b int) bool) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && less(idx[j], idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}
