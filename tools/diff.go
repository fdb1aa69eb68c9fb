package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/diff"
)

// DiffArgs are the arguments of diff-packs.
type DiffArgs struct {
	A         string   `json:"a" jsonschema:"description=Baseline pack directory or audit bundle (.tar.gz)"`
	B         string   `json:"b" jsonschema:"description=New pack directory or audit bundle (.tar.gz)"`
	CostPct   *float64 `json:"cost_pct,omitempty" jsonschema:"description=Fail when B's model cost exceeds A's by more than this percent"`
	P95Pct    *float64 `json:"p95_pct,omitempty" jsonschema:"description=Fail when B's p95 latency exceeds A's by more than this percent"`
	MaxErrors *int     `json:"max_errors,omitempty" jsonschema:"description=Fail when B has more errored model calls than this,minimum=0"`
	Strict    bool     `json:"strict,omitempty" jsonschema:"description=A gate whose data is missing fails instead of being skipped"`
	Limit     int      `json:"limit,omitempty" jsonschema:"description=Maximum claims and models listed (default 20),minimum=1,maximum=200"`
}

// DiffPack is what diff-packs says about each pack.
type DiffPack struct {
	Path             string `json:"path"`
	PackID           string `json:"pack_id"`
	ReceiptIntegrity string `json:"receipt_integrity"`
	ClaimCheck       string `json:"claim_check"`
	NReceipts        int64  `json:"n_receipts"`
	SignerID         string `json:"signer_id"`
}

// DiffClaim is one claim compared across the packs.
type DiffClaim struct {
	ClaimID  string `json:"claim_id"`
	Status   string `json:"status" jsonschema:"enum=new,enum=removed,enum=regressed,enum=improved,enum=unchanged"`
	Severity string `json:"severity,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// DiffModel compares one model's calls and cost across the packs.
type DiffModel struct {
	Model  string  `json:"model"`
	Status string  `json:"status"`
	CallsA int     `json:"calls_a"`
	CallsB int     `json:"calls_b"`
	CostA  float64 `json:"cost_a_usd"`
	CostB  float64 `json:"cost_b_usd"`
}

// DiffGate is one budget gate's outcome.
type DiffGate struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// DiffResult is what diff-packs returns.
type DiffResult struct {
	Status       string      `json:"status" jsonschema:"enum=ok,enum=regression,enum=gate_failed,enum=integrity_failed"`
	ExitCode     int         `json:"exit_code"`
	Reasons      []string    `json:"reasons"`
	A            DiffPack    `json:"a"`
	B            DiffPack    `json:"b"`
	Regressions  int         `json:"regressions"`
	Claims       []DiffClaim `json:"claims"`
	ClaimsTotal  int         `json:"claims_total"`
	Models       []DiffModel `json:"models"`
	CostDeltaUSD float64     `json:"cost_delta_usd"`
	Gates        []DiffGate  `json:"gates"`
}

func diffPack(p diff.PackInfo) DiffPack {
	return DiffPack{Path: p.Path, PackID: p.PackID, ReceiptIntegrity: p.ReceiptIntegrity, ClaimCheck: p.ClaimCheck, NReceipts: p.NReceipts, SignerID: p.SignerID}
}

func diffTool() Tool {
	return newTool("diff-packs", "Compare two proof packs",
		"Compare two packs (both verified first): claim regressions, model calls, tokens, cost and latency per model, with optional budget gates. Exit code 0 no regression, 1 regression or gate failed, 2 a pack is tampered.",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a DiffArgs) (DiffResult, string, error) {
			pa, err := c.PackPath(ctx, a.A)
			if err != nil {
				return DiffResult{}, "", err
			}
			pb, err := c.PackPath(ctx, a.B)
			if err != nil {
				return DiffResult{}, "", err
			}
			r, err := diff.Compare(pa, pb, diff.Options{Gates: diff.Gates{CostPct: a.CostPct, P95Pct: a.P95Pct, Errors: a.MaxErrors, Strict: a.Strict}})
			if err != nil {
				return DiffResult{}, "", err
			}
			n := limitOr(a.Limit)
			res := DiffResult{
				Status: r.Status, ExitCode: r.ExitCode, Reasons: bound(nonNil(r.Reasons), n),
				A: diffPack(r.A), B: diffPack(r.B), Regressions: r.Regressions, ClaimsTotal: len(r.Claims),
				CostDeltaUSD: r.CostDeltaUSD, Claims: []DiffClaim{}, Models: []DiffModel{}, Gates: []DiffGate{},
			}
			for _, c := range bound(r.Claims, n) {
				res.Claims = append(res.Claims, DiffClaim{ClaimID: c.ClaimID, Status: c.Status, Severity: c.Severity, Actual: c.Actual})
			}
			for _, m := range bound(r.Models, n) {
				res.Models = append(res.Models, DiffModel{Model: m.Model, Status: m.Status, CallsA: m.CallsA, CallsB: m.CallsB, CostA: m.CostA, CostB: m.CostB})
			}
			for _, g := range r.Gates {
				res.Gates = append(res.Gates, DiffGate{Name: g.Name, Passed: g.Passed, Detail: g.Detail})
			}
			sum := fmt.Sprintf("%s (exit %d): %d claim regressions, cost delta $%.4f", res.Status, res.ExitCode, res.Regressions, res.CostDeltaUSD)
			if len(res.Reasons) > 0 {
				sum += "; " + strings.Join(res.Reasons, "; ")
			}
			return res, sum, nil
		})
}
