package ops

import (
	"math"
	"strings"

	"github.com/assay-dev/assay/core/diff"
	"github.com/assay-dev/assay/core/exit"
)

// DiffRequest asks to compare pack A (the baseline) with pack B. Absent
// gates are not run; an explicit 0 is a gate at 0.
type DiffRequest struct {
	A, B      string
	CostPct   *float64
	P95Pct    *float64
	MaxErrors *int
	Strict    bool
	NoVerify  bool
	Why       bool
	// Prices is a price file overriding the built-in table.
	Prices string
}

// Options validates the request and applies its defaults.
func (r DiffRequest) Options() (diff.Options, error) {
	var o diff.Options
	if strings.TrimSpace(r.A) == "" || strings.TrimSpace(r.B) == "" {
		return o, exit.Bad("give two packs: the baseline A and the new run B", "diff needs two packs")
	}
	for _, g := range []struct {
		name, eg string
		v        *float64
	}{{"cost gate (--gate-cost-pct, cost_pct)", "20", r.CostPct}, {"p95 gate (--gate-p95-pct, p95_pct)", "25", r.P95Pct}} {
		if g.v != nil && (math.IsNaN(*g.v) || math.IsInf(*g.v, 0)) {
			return o, exit.Bad("give a percentage, e.g. "+g.eg, "%s must be a number", g.name)
		}
	}
	if r.MaxErrors != nil && *r.MaxErrors < 0 {
		return o, exit.Bad("give a count of 0 or more", "error gate (--gate-errors, max_errors) must be >= 0, got %d", *r.MaxErrors)
	}
	o.NoVerify, o.Why = r.NoVerify, r.Why
	o.Gates = diff.Gates{CostPct: r.CostPct, P95Pct: r.P95Pct, Errors: r.MaxErrors, Strict: r.Strict}
	if r.Prices != "" {
		p, err := diff.LoadPrices(r.Prices)
		if err != nil {
			return o, err
		}
		o.Prices = p
	}
	return o, nil
}

// Diff runs the request; the result is the document 'assay diff --json'
// prints and the MCP diff-packs tool returns (schemas/diff.schema.json).
func Diff(r DiffRequest) (*diff.Result, error) {
	o, err := r.Options()
	if err != nil {
		return nil, err
	}
	return diff.Compare(r.A, r.B, o)
}
