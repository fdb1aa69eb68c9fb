package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/diff"
)

// DiffArgs are the arguments of diff-packs.
type DiffArgs struct {
	A         string   `json:"a" jsonschema:"description=Baseline pack directory"`
	B         string   `json:"b" jsonschema:"description=New pack directory"`
	CostPct   *float64 `json:"cost_pct,omitempty" jsonschema:"description=Fail when B's model cost exceeds A's by more than this percent"`
	P95Pct    *float64 `json:"p95_pct,omitempty" jsonschema:"description=Fail when B's p95 latency exceeds A's by more than this percent"`
	MaxErrors *int     `json:"max_errors,omitempty" jsonschema:"description=Fail when B has more errored model calls than this,minimum=0"`
	Strict    bool     `json:"strict,omitempty" jsonschema:"description=A gate whose data is missing fails instead of being skipped"`
	Limit     int      `json:"limit,omitempty" jsonschema:"description=Maximum claims and models listed (default 20),minimum=1,maximum=200"`
}

// DiffResult is what diff-packs returns.
type DiffResult struct {
	Status       string            `json:"status" jsonschema:"enum=ok,enum=regression,enum=gate_failed,enum=integrity_failed"`
	ExitCode     int               `json:"exit_code" jsonschema:"description=0 no regression; 1 regression or gate failed; 2 a pack failed integrity"`
	Reasons      []string          `json:"reasons"`
	Verified     bool              `json:"verified"`
	A            diff.PackInfo     `json:"a"`
	B            diff.PackInfo     `json:"b"`
	SameClaimSet bool              `json:"same_claim_set"`
	Regressions  int               `json:"regressions"`
	Claims       []diff.ClaimDelta `json:"claims"`
	ClaimsTotal  int               `json:"claims_total"`
	Models       []diff.ModelDelta `json:"models"`
	CostDeltaUSD float64           `json:"cost_delta_usd"`
	Gates        []diff.Gate       `json:"gates"`
}

func diffTool() Tool {
	return newTool("diff-packs", "Compare two proof packs",
		"Compare two packs (both verified first): claim regressions, model calls, tokens, cost and latency per model, with optional budget gates. Exit code 0 no regression, 1 regression or gate failed, 2 a pack is tampered.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a DiffArgs) (DiffResult, string, error) {
			pa, err := c.Path(ctx, a.A)
			if err != nil {
				return DiffResult{}, "", err
			}
			pb, err := c.Path(ctx, a.B)
			if err != nil {
				return DiffResult{}, "", err
			}
			r, err := diff.Compare(pa, pb, diff.Options{Gates: diff.Gates{CostPct: a.CostPct, P95Pct: a.P95Pct, Errors: a.MaxErrors, Strict: a.Strict}})
			if err != nil {
				return DiffResult{}, "", err
			}
			n := limitOr(a.Limit)
			res := DiffResult{
				Status: r.Status, ExitCode: r.ExitCode, Reasons: bound(nonNil(r.Reasons), n), Verified: r.Verified,
				A: r.A, B: r.B, SameClaimSet: r.SameClaimSet, Regressions: r.Regressions,
				Claims: bound(r.Claims, n), ClaimsTotal: len(r.Claims), Models: bound(r.Models, n),
				CostDeltaUSD: r.CostDeltaUSD, Gates: r.Gates,
			}
			if res.Claims == nil {
				res.Claims = []diff.ClaimDelta{}
			}
			if res.Models == nil {
				res.Models = []diff.ModelDelta{}
			}
			if res.Gates == nil {
				res.Gates = []diff.Gate{}
			}
			sum := fmt.Sprintf("%s (exit %d): %d claim regressions, cost delta $%.4f", res.Status, res.ExitCode, res.Regressions, res.CostDeltaUSD)
			if len(res.Reasons) > 0 {
				sum += "; " + strings.Join(res.Reasons, "; ")
			}
			return res, sum, nil
		})
}
