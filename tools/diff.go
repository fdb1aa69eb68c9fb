package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/diff"
	"github.com/assay-dev/assay/core/ops"
)

// DiffArgs are the arguments of diff-packs: the CLI's gates, filling the
// same ops.DiffRequest.
type DiffArgs struct {
	A         string   `json:"a" jsonschema:"description=Baseline pack directory or audit bundle (.tar.gz)"`
	B         string   `json:"b" jsonschema:"description=New pack directory or audit bundle (.tar.gz)"`
	CostPct   *float64 `json:"cost_pct,omitempty" jsonschema:"description=Fail when B's model cost exceeds A's by more than this percent"`
	P95Pct    *float64 `json:"p95_pct,omitempty" jsonschema:"description=Fail when B's p95 latency exceeds A's by more than this percent"`
	MaxErrors *int     `json:"max_errors,omitempty" jsonschema:"description=Fail when B has more errored model calls than this,minimum=0"`
	Strict    bool     `json:"strict,omitempty" jsonschema:"description=A gate whose data is missing fails instead of being skipped"`
	Why       bool     `json:"why,omitempty" jsonschema:"description=Follow parent_receipt_id chains from the evidence of the claims that fail in B"`
}

// DiffResult is what diff-packs returns: the document 'assay diff --json'
// prints (schemas/diff.schema.json).
type DiffResult = diff.Result

func diffTool() Tool {
	return newTool("diff-packs", "Compare two proof packs",
		"Compare two packs (both verified first): claim regressions, model calls, tokens, cost and latency per model, with optional budget gates. Exit code 0 no regression, 1 regression or gate failed, 2 a pack is tampered. The same document as 'assay diff --json'.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a DiffArgs) (*DiffResult, string, error) {
			req := ops.DiffRequest{CostPct: a.CostPct, P95Pct: a.P95Pct, MaxErrors: a.MaxErrors, Strict: a.Strict, Why: a.Why}
			var err error
			if req.A, err = c.PackPath(ctx, a.A); err != nil {
				return nil, "", err
			}
			if req.B, err = c.PackPath(ctx, a.B); err != nil {
				return nil, "", err
			}
			r, err := ops.Diff(req)
			if err != nil {
				return nil, "", err
			}
			sum := fmt.Sprintf("%s (exit %d): %d claim regressions, cost delta $%.4f", r.Status, r.ExitCode, r.Regressions, r.CostDeltaUSD)
			if len(r.Reasons) > 0 {
				sum += "; " + strings.Join(r.Reasons, "; ")
			}
			return r, sum, nil
		})
}
