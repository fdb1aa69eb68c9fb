// Package diff compares two proof packs (pack-format.md §8): claim
// regressions from each pack's verify_report.json, and an analysis of the
// model_call receipts (calls, tokens, cost from a price table, latency
// p50/p95, errors) per pack and per model, with budget gates. It computes a
// typed Result; the CLI renders it as text, JSON or an HTML report.
//
// Exit codes (DECISIONS 6, the same in JSON mode): 0 no regression and every
// requested gate passed; 1 a claim regressed or a gate failed; 2 a pack
// failed integrity verification (preflight); 3 bad input (returned as an
// error, not a Result).
package diff

import (
	"errors"
	"fmt"
	"github.com/assay-dev/assay/core/fsutil"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
)

// SchemaVersion names the layout of Result (schemas/diff.schema.json).
const SchemaVersion = "assay.diff.v1"

// Status values of Result.Status.
const (
	StatusOK              = "ok"
	StatusRegression      = "regression"
	StatusGateFailed      = "gate_failed"
	StatusIntegrityFailed = "integrity_failed"
)

// Claim status values of ClaimDelta.Status.
const (
	ClaimNew       = "new"
	ClaimRemoved   = "removed"
	ClaimRegressed = "regressed"
	ClaimImproved  = "improved"
	ClaimUnchanged = "unchanged"
)

// Gates are the budget gates. A nil threshold is not checked.
type Gates struct {
	// CostPct fails when pack B's cost exceeds pack A's by more than this
	// percentage (a zero base with a positive new cost is an infinite rise).
	CostPct *float64
	// P95Pct fails when B's p95 latency exceeds A's by more than this percentage.
	P95Pct *float64
	// Errors fails when pack B has more than this many errored model calls.
	Errors *int
	// Strict makes a gate whose data is missing fail instead of being skipped.
	Strict bool
}

// Options configure Compare.
type Options struct {
	// NoVerify skips the integrity preflight of both packs.
	NoVerify bool
	// Prices is the price table; the zero value means BuiltinPrices().
	Prices Prices
	Gates  Gates
	// Why follows parent_receipt_id chains from the evidence receipts of
	// the claims that fail in pack B.
	Why bool
}

// PackInfo is what the diff reports about each pack, from its manifest.
type PackInfo struct {
	Path              string `json:"path"`
	PackID            string `json:"pack_id"`
	ReceiptIntegrity  string `json:"receipt_integrity"`
	ClaimCheck        string `json:"claim_check"`
	ClaimSetHash      string `json:"claim_set_hash"`
	SignerID          string `json:"signer_id"`
	SignerFingerprint string `json:"signer_pubkey_sha256"`
	VerifierVersion   string `json:"verifier_version"`
	NReceipts         int64  `json:"n_receipts"`
	TimestampStart    string `json:"timestamp_start"`
	TimestampEnd      string `json:"timestamp_end"`
}

// Preflight is the integrity verification of one pack before comparing.
type Preflight struct {
	Path     string   `json:"path"`
	Verdict  string   `json:"verdict"`
	ExitCode int      `json:"exit_code"`
	Errors   []string `json:"errors"`
}

// ClaimDelta is one claim compared across the packs. Before/After are nil
// when the claim is absent from that pack.
type ClaimDelta struct {
	ClaimID  string `json:"claim_id"`
	Status   string `json:"status" jsonschema:"enum=new,enum=removed,enum=regressed,enum=improved,enum=unchanged"`
	Before   *bool  `json:"before" jsonschema:"nullable"`
	After    *bool  `json:"after" jsonschema:"nullable"`
	Severity string `json:"severity,omitempty"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// ModelStats is one model's share of a pack's model calls.
type ModelStats struct {
	Model        string  `json:"model"`
	Calls        int     `json:"calls"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	TotalTokens  int64   `json:"total_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	Errors       int     `json:"errors"`
	// PriceKey is the price-table entry used ("" for the unknown-model price).
	PriceKey string `json:"price_key"`
}

// Analysis summarizes a pack's model_call receipts.
type Analysis struct {
	ModelCalls int `json:"model_calls"`
	// CallsWithUsage counts calls that reported any token count.
	CallsWithUsage int     `json:"calls_with_usage"`
	InputTokens    int64   `json:"input_tokens"`
	OutputTokens   int64   `json:"output_tokens"`
	TotalTokens    int64   `json:"total_tokens"`
	CostUSD        float64 `json:"cost_usd"`
	// LatencySamples counts calls with a latency_ms; the percentiles are
	// null when there are none.
	LatencySamples int          `json:"latency_samples"`
	LatencyP50Ms   *float64     `json:"latency_p50_ms" jsonschema:"nullable"`
	LatencyP95Ms   *float64     `json:"latency_p95_ms" jsonschema:"nullable"`
	Errors         int          `json:"errors"`
	Models         []ModelStats `json:"models"`
}

// ModelDelta compares one model across the packs.
type ModelDelta struct {
	Model   string  `json:"model"`
	Status  string  `json:"status" jsonschema:"enum=added,enum=removed,enum=changed,enum=unchanged"`
	CallsA  int     `json:"calls_a"`
	CallsB  int     `json:"calls_b"`
	TokensA int64   `json:"tokens_a"`
	TokensB int64   `json:"tokens_b"`
	CostA   float64 `json:"cost_a_usd"`
	CostB   float64 `json:"cost_b_usd"`
}

// Gate is the outcome of one requested gate.
type Gate struct {
	Name      string  `json:"name" jsonschema:"enum=cost_pct,enum=p95_pct,enum=errors"`
	Threshold float64 `json:"threshold"`
	// Actual is the measured value (percent change, or B's error count);
	// null when it is infinite or the data is missing.
	Actual   *float64 `json:"actual" jsonschema:"nullable"`
	Infinite bool     `json:"infinite,omitempty"`
	Passed   bool     `json:"passed"`
	Skipped  bool     `json:"skipped,omitempty"`
	Detail   string   `json:"detail"`
}

// Link is one receipt on a parent_receipt_id chain.
type Link struct {
	ReceiptID string `json:"receipt_id"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp,omitempty"`
	// Summary names what the receipt was about (model, tool, verdict, error).
	Summary string `json:"summary,omitempty"`
}

// Why is the causal chain behind one failing claim's evidence receipt,
// from the evidence receipt up to the root of its parent chain.
type Why struct {
	ClaimID   string `json:"claim_id"`
	ReceiptID string `json:"receipt_id,omitempty"`
	Chain     []Link `json:"chain"`
	// Note explains a chain that could not be followed (no evidence
	// recorded, a parent missing from the pack, a cycle).
	Note string `json:"note,omitempty"`
}

// Result is the outcome of Compare; `assay diff --json` prints it.
type Result struct {
	SchemaVersion  string       `json:"schema_version"`
	Status         string       `json:"status" jsonschema:"enum=ok,enum=regression,enum=gate_failed,enum=integrity_failed"`
	ExitCode       int          `json:"exit_code" jsonschema:"enum=0,enum=1,enum=2"`
	Reasons        []string     `json:"reasons"`
	Verified       bool         `json:"verified"`
	Preflight      []Preflight  `json:"preflight"`
	A              PackInfo     `json:"a"`
	B              PackInfo     `json:"b"`
	SameClaimSet   bool         `json:"same_claim_set"`
	SignerChanged  bool         `json:"signer_changed"`
	VersionChanged bool         `json:"version_changed"`
	Claims         []ClaimDelta `json:"claims"`
	Regressions    int          `json:"regressions"`
	AnalysisA      *Analysis    `json:"analysis_a" jsonschema:"nullable"`
	AnalysisB      *Analysis    `json:"analysis_b" jsonschema:"nullable"`
	Models         []ModelDelta `json:"models"`
	CostDeltaUSD   float64      `json:"cost_delta_usd"`
	Gates          []Gate       `json:"gates"`
	Why            []Why        `json:"why,omitempty"`
}

// Compare diffs pack a (the baseline) against pack b (the new run). Bad
// input is returned as an exit-3 error; integrity failures, regressions and
// gate failures are in the Result.
func Compare(a, b string, opts Options) (*Result, error) {
	if opts.Prices.Table == nil {
		opts.Prices = BuiltinPrices()
	}
	res := &Result{SchemaVersion: SchemaVersion, Status: StatusOK, Reasons: []string{}, Preflight: []Preflight{},
		Claims: []ClaimDelta{}, Models: []ModelDelta{}, Gates: []Gate{}}
	// Each pack is opened once (pack.Open: a directory, or an audit bundle
	// extracted safely, DECISIONS 16), verified, then read from the same
	// files. A pack directory with a file linking out of it is refused
	// before anything in it is read (or echoed in an error).
	paths := []string{a, b}
	opened := make([]*pack.Pack, 2)
	openErrs := make([]error, 2)
	defer func() {
		for _, p := range opened {
			p.Close()
		}
	}()
	for i, path := range paths {
		if fsutil.IsDir(path) {
			if err := fsutil.CheckPackDir(path); err != nil {
				return nil, err
			}
		}
		p, err := pack.Open(path)
		if err != nil && exit.Code(err) == exit.Tampered && !opts.NoVerify {
			openErrs[i] = err // the manifest is not a JSON object: the preflight says so
			continue
		}
		if err != nil {
			if exit.Code(err) == exit.Tampered {
				err = exit.New(exit.Tampered, "run 'assay verify-pack "+path+"' for details", "%s: %v", path, err)
			}
			return nil, err
		}
		opened[i] = p
	}
	if !opts.NoVerify {
		res.Verified = true
		for i, p := range opened {
			pf, err := preflight(paths[i], p, openErrs[i])
			if err != nil {
				return nil, err
			}
			res.Preflight = append(res.Preflight, pf)
		}
		for _, pf := range res.Preflight {
			if pf.ExitCode == exit.Tampered {
				return integrityFailed(res), nil
			}
		}
	}
	pa, err := load(opened[0], opts.Prices)
	if err != nil {
		return nil, err
	}
	pb, err := load(opened[1], opts.Prices)
	if err != nil {
		return nil, err
	}
	res.A, res.B = pa.info, pb.info
	res.SameClaimSet = pa.info.ClaimSetHash != "" && pa.info.ClaimSetHash == pb.info.ClaimSetHash
	res.SignerChanged = pa.info.SignerFingerprint != "" && pb.info.SignerFingerprint != "" && pa.info.SignerFingerprint != pb.info.SignerFingerprint
	res.VersionChanged = pa.info.VerifierVersion != "" && pb.info.VerifierVersion != "" && pa.info.VerifierVersion != pb.info.VerifierVersion

	res.Claims, res.Regressions = compareClaims(pa.claims, pb.claims)
	res.AnalysisA = pa.an.result()
	res.AnalysisB = pb.an.result()
	res.Models = compareModels(res.AnalysisA, res.AnalysisB)
	res.CostDeltaUSD = round6(res.AnalysisB.CostUSD - res.AnalysisA.CostUSD)
	res.Gates = evalGates(res.AnalysisA, res.AnalysisB, opts.Gates)
	if opts.Why {
		if err := pb.whyIndex(); err != nil {
			return nil, err
		}
		res.Why = whyChains(pb)
	}

	if res.Regressions > 0 {
		res.Status, res.ExitCode = StatusRegression, exit.HonestFail
		for _, c := range res.Claims {
			if c.Status == ClaimRegressed {
				res.Reasons = append(res.Reasons, fmt.Sprintf("claim %s regressed (passed in A, fails in B)", c.ClaimID))
			}
		}
	}
	for _, g := range res.Gates {
		if !g.Passed {
			if res.Status == StatusOK {
				res.Status = StatusGateFailed
			}
			res.ExitCode = exit.HonestFail
			res.Reasons = append(res.Reasons, fmt.Sprintf("gate %s failed: %s", g.Name, g.Detail))
		}
	}
	return res, nil
}

func integrityFailed(res *Result) *Result {
	res.Status, res.ExitCode = StatusIntegrityFailed, exit.Tampered
	for _, pf := range res.Preflight {
		if pf.ExitCode == exit.Tampered {
			msg := "integrity verification failed"
			if len(pf.Errors) > 0 {
				msg += ": " + pf.Errors[0]
			}
			res.Reasons = append(res.Reasons, pf.Path+": "+msg)
		}
	}
	return res
}

// claimResult is one entry of claim_verification.results.
type claimResult struct {
	ID       string
	Passed   bool
	Severity string
	Expected string
	Actual   string
	Evidence []string
}

type packData struct {
	pk     *pack.Pack
	info   PackInfo
	an     *analyzer
	claims []claimResult
	// parents maps a receipt id to its parent_receipt_id (the last receipt
	// with that id wins, as a lookup by id did); links are the receipts a
	// --why chain shows, read in a second pass (whyIndex).
	parents map[string]string
	links   map[string]Link
}

// take aggregates one receipt: the pack is streamed, never held.
func (p *packData) take(r *canon.Object) {
	p.an.add(r)
	if id := r.String("receipt_id"); id != "" {
		if parent := r.String("parent_receipt_id"); parent != "" {
			p.parents[id] = parent
		} else {
			delete(p.parents, id)
		}
	}
}

func load(pk *pack.Pack, prices Prices) (*packData, error) {
	m, a := pk.Manifest, pk.Attestation()
	p := &packData{pk: pk, an: newAnalyzer(prices), parents: map[string]string{}}
	p.info = PackInfo{
		Path:              pk.Path,
		PackID:            m.PackID,
		ReceiptIntegrity:  a.ReceiptIntegrity,
		ClaimCheck:        a.ClaimCheck,
		ClaimSetHash:      m.ClaimSetHash,
		SignerID:          m.SignerID,
		SignerFingerprint: m.SignerPubkeySHA256,
		VerifierVersion:   a.VerifierVersion,
		NReceipts:         int64(a.NReceipts),
		TimestampStart:    a.TimestampStart,
		TimestampEnd:      a.TimestampEnd,
	}
	if err := p.readReceipts(); err != nil {
		return nil, err
	}
	if err := p.readClaims(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *packData) readReceipts() error {
	it, err := p.pk.Receipts()
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		if it.Blank() {
			continue
		}
		obj, ok := it.Object()
		if !ok {
			return exit.Bad("verify the pack with 'assay verify-pack'", "%s line %d is not a JSON object", filepath.Join(p.pk.Dir, pack.FileReceipts), it.LineNo())
		}
		p.take(obj)
	}
	return it.Err()
}

// maxReport bounds the verify report read for its claim results.
const maxReport = 64 << 20

func (p *packData) readClaims() error {
	path := filepath.Join(p.pk.Dir, pack.FileReport)
	raw, err := p.pk.ReadFile(pack.FileReport, maxReport)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no report: no claims to compare (a verified pack always has one)
	}
	if err != nil {
		return exit.Bad("check the file's permissions", "cannot read %s: %v", path, err)
	}
	v, err := canon.Decode(raw)
	obj, ok := v.(*canon.Object)
	if err != nil || !ok {
		return exit.Bad("verify the pack with 'assay verify-pack'", "%s is not a JSON object", path)
	}
	cv, _ := obj.Get("claim_verification")
	cvo, ok := cv.(*canon.Object)
	if !ok {
		return nil
	}
	rs, _ := cvo.Get("results")
	list, _ := rs.([]any)
	for _, item := range list {
		ro, ok := item.(*canon.Object)
		if !ok {
			continue
		}
		id := ro.String("claim_id")
		if id == "" {
			continue
		}
		passed, _ := ro.Get("passed")
		c := claimResult{ID: id, Passed: passed == true, Severity: ro.String("severity"), Expected: ro.String("expected"), Actual: ro.String("actual")}
		if ev, ok := ro.Get("evidence_receipt_ids"); ok {
			if el, ok := ev.([]any); ok {
				for _, e := range el {
					if s, ok := e.(string); ok {
						c.Evidence = append(c.Evidence, s)
					}
				}
			}
		}
		p.claims = append(p.claims, c)
	}
	return nil
}

func compareClaims(a, b []claimResult) ([]ClaimDelta, int) {
	out := []ClaimDelta{}
	inA := map[string]claimResult{}
	for _, c := range a {
		inA[c.ID] = c
	}
	inB := map[string]bool{}
	regressions := 0
	for _, cb := range b {
		inB[cb.ID] = true
		after := cb.Passed
		d := ClaimDelta{ClaimID: cb.ID, After: &after, Severity: cb.Severity, Expected: cb.Expected, Actual: cb.Actual}
		ca, ok := inA[cb.ID]
		switch {
		case !ok:
			d.Status = ClaimNew
		case ca.Passed && !cb.Passed:
			d.Status = ClaimRegressed
			regressions++
		case !ca.Passed && cb.Passed:
			d.Status = ClaimImproved
		default:
			d.Status = ClaimUnchanged
		}
		if ok {
			before := ca.Passed
			d.Before = &before
		}
		out = append(out, d)
	}
	for _, ca := range a {
		if !inB[ca.ID] {
			before := ca.Passed
			out = append(out, ClaimDelta{ClaimID: ca.ID, Status: ClaimRemoved, Before: &before, Severity: ca.Severity, Expected: ca.Expected, Actual: ca.Actual})
		}
	}
	return out, regressions
}

// number returns a JSON number (or numeric string) as float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case canon.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil && !math.IsInf(f, 0)
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// truthy is Python truthiness, which the reference applies to `error`.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case canon.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f != 0
	case []any:
		return len(x) > 0
	case *canon.Object:
		return x != nil && len(x.Members) > 0
	}
	return true
}

func modelOf(r *canon.Object) string {
	if m := r.String("model_id"); m != "" {
		return m
	}
	if m := r.String("model"); m != "" {
		return m
	}
	return "unknown"
}

func analyze(receipts []*canon.Object, prices Prices) *Analysis {
	an := newAnalyzer(prices)
	for _, r := range receipts {
		an.add(r)
	}
	return an.result()
}

// analyzer aggregates model_call receipts one at a time: per-model sums and
// the latencies (8 bytes a call, for exact percentiles).
type analyzer struct {
	prices  Prices
	a       *Analysis
	byModel map[string]*ModelStats
	lat     []float64
}

func newAnalyzer(prices Prices) *analyzer {
	return &analyzer{prices: prices, a: &Analysis{Models: []ModelStats{}}, byModel: map[string]*ModelStats{}}
}

func (an *analyzer) add(r *canon.Object) {
	a, byModel, prices := an.a, an.byModel, an.prices
	if r.String("type") != "model_call" {
		return
	}
	a.ModelCalls++
	name := modelOf(r)
	ms := byModel[name]
	if ms == nil {
		_, key := prices.Lookup(name)
		ms = &ModelStats{Model: name, PriceKey: key}
		byModel[name] = ms
	}
	ms.Calls++
	in, okIn := intField(r, "input_tokens")
	out, okOut := intField(r, "output_tokens")
	tot, okTot := intField(r, "total_tokens")
	if !okTot {
		tot = in + out
	}
	if okIn || okOut || okTot {
		a.CallsWithUsage++
	}
	ms.InputTokens += in
	ms.OutputTokens += out
	ms.TotalTokens += tot
	pr, _ := prices.Lookup(name)
	ms.CostUSD += float64(in)*pr.Input/1e6 + float64(out)*pr.Output/1e6
	if e, _ := r.Get("error"); truthy(e) {
		ms.Errors++
		a.Errors++
	}
	if v, ok := r.Get("latency_ms"); ok {
		if f, ok := number(v); ok {
			an.lat = append(an.lat, f)
		}
	}
}

func (an *analyzer) result() *Analysis {
	a, byModel, lat := an.a, an.byModel, an.lat
	names := make([]string, 0, len(byModel))
	for n := range byModel {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ms := byModel[n]
		ms.CostUSD = round6(ms.CostUSD)
		a.InputTokens += ms.InputTokens
		a.OutputTokens += ms.OutputTokens
		a.TotalTokens += ms.TotalTokens
		a.CostUSD += ms.CostUSD
		a.Models = append(a.Models, *ms)
	}
	a.CostUSD = round6(a.CostUSD)
	a.LatencySamples = len(lat)
	if len(lat) > 0 {
		sort.Float64s(lat)
		p50, p95 := percentile(lat, 0.50), percentile(lat, 0.95)
		a.LatencyP50Ms, a.LatencyP95Ms = &p50, &p95
	}
	return a
}

// percentile is the reference's nearest-rank rule: sorted[min(int(n·q), n−1)].
func percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	i := int(float64(n) * q)
	if i > n-1 {
		i = n - 1
	}
	return sorted[i]
}

func intField(r *canon.Object, key string) (int64, bool) {
	v, ok := r.Get(key)
	if !ok {
		return 0, false
	}
	f, ok := number(v)
	if !ok || f < 0 {
		return 0, false
	}
	return int64(f), true
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func compareModels(a, b *Analysis) []ModelDelta {
	idx := map[string]*ModelDelta{}
	var order []string
	get := func(m string) *ModelDelta {
		d := idx[m]
		if d == nil {
			d = &ModelDelta{Model: m}
			idx[m] = d
			order = append(order, m)
		}
		return d
	}
	for _, m := range a.Models {
		d := get(m.Model)
		d.CallsA, d.TokensA, d.CostA = m.Calls, m.TotalTokens, m.CostUSD
	}
	for _, m := range b.Models {
		d := get(m.Model)
		d.CallsB, d.TokensB, d.CostB = m.Calls, m.TotalTokens, m.CostUSD
	}
	sort.Strings(order)
	out := make([]ModelDelta, 0, len(order))
	for _, m := range order {
		d := idx[m]
		switch {
		case d.CallsA == 0:
			d.Status = "added"
		case d.CallsB == 0:
			d.Status = "removed"
		case d.CallsA != d.CallsB || d.TokensA != d.TokensB || d.CostA != d.CostB:
			d.Status = "changed"
		default:
			d.Status = "unchanged"
		}
		out = append(out, *d)
	}
	return out
}

// pctChange returns the percent change from base to now; inf when base is 0
// and now is positive.
func pctChange(base, now float64) (pct float64, inf bool) {
	if base == 0 {
		if now > 0 {
			return 0, true
		}
		return 0, false
	}
	return (now - base) / base * 100, false
}

func evalGates(a, b *Analysis, g Gates) []Gate {
	out := []Gate{}
	missing := func(gate Gate, why string) Gate {
		gate.Detail = "no data: " + why
		if g.Strict {
			gate.Passed = false
			gate.Detail += " (--gate-strict)"
		} else {
			gate.Passed, gate.Skipped = true, true
			gate.Detail += "; skipped"
		}
		return gate
	}
	if g.CostPct != nil {
		gate := Gate{Name: "cost_pct", Threshold: *g.CostPct}
		if a.CallsWithUsage == 0 || b.CallsWithUsage == 0 {
			gate = missing(gate, "a pack has no model_call receipts with token usage")
		} else {
			pct, inf := pctChange(a.CostUSD, b.CostUSD)
			gate.Infinite = inf
			if inf {
				gate.Passed = false
				gate.Detail = fmt.Sprintf("cost rose from $0 to $%.6f (infinite increase)", b.CostUSD)
			} else {
				p := round6(pct)
				gate.Actual = &p
				gate.Passed = pct <= *g.CostPct
				gate.Detail = fmt.Sprintf("cost $%.6f -> $%.6f (%+.2f%%, limit %+.2f%%)", a.CostUSD, b.CostUSD, pct, *g.CostPct)
			}
		}
		out = append(out, gate)
	}
	if g.P95Pct != nil {
		gate := Gate{Name: "p95_pct", Threshold: *g.P95Pct}
		if a.LatencyP95Ms == nil || b.LatencyP95Ms == nil {
			gate = missing(gate, "a pack has no model_call receipts with latency_ms")
		} else {
			pct, inf := pctChange(*a.LatencyP95Ms, *b.LatencyP95Ms)
			gate.Infinite = inf
			if inf {
				gate.Passed = false
				gate.Detail = fmt.Sprintf("p95 latency rose from 0 ms to %g ms (infinite increase)", *b.LatencyP95Ms)
			} else {
				p := round6(pct)
				gate.Actual = &p
				gate.Passed = pct <= *g.P95Pct
				gate.Detail = fmt.Sprintf("p95 latency %g ms -> %g ms (%+.2f%%, limit %+.2f%%)", *a.LatencyP95Ms, *b.LatencyP95Ms, pct, *g.P95Pct)
			}
		}
		out = append(out, gate)
	}
	if g.Errors != nil {
		gate := Gate{Name: "errors", Threshold: float64(*g.Errors)}
		if b.ModelCalls == 0 {
			gate = missing(gate, "pack B has no model_call receipts")
		} else {
			n := float64(b.Errors)
			gate.Actual = &n
			gate.Passed = b.Errors <= *g.Errors
			gate.Detail = fmt.Sprintf("%d errored model calls in B (limit %d)", b.Errors, *g.Errors)
		}
		out = append(out, gate)
	}
	return out
}

// maxChain bounds a parent chain, so a long or hostile chain cannot blow up
// the output.
const maxChain = 64

func whyChains(p *packData) []Why {
	out := []Why{}
	for _, c := range p.claims {
		if c.Passed {
			continue
		}
		if len(c.Evidence) == 0 {
			out = append(out, Why{ClaimID: c.ID, Chain: []Link{}, Note: "no evidence receipts recorded for this claim (" + c.Actual + ")"})
			continue
		}
		for _, id := range c.Evidence {
			w := Why{ClaimID: c.ID, ReceiptID: id, Chain: []Link{}}
			seen := map[string]bool{}
			cur := id
			for cur != "" {
				if seen[cur] {
					w.Note = "cycle in parent_receipt_id at " + cur
					break
				}
				if len(w.Chain) >= maxChain {
					w.Note = fmt.Sprintf("chain truncated after %d receipts", maxChain)
					break
				}
				seen[cur] = true
				l, ok := p.links[cur]
				if !ok {
					w.Note = "receipt " + cur + " is not in the pack"
					break
				}
				w.Chain = append(w.Chain, l)
				cur = p.parents[cur]
			}
			out = append(out, w)
		}
	}
	return out
}

func link(r *canon.Object) Link {
	l := Link{ReceiptID: r.String("receipt_id"), Type: r.String("type"), Timestamp: r.String("timestamp")}
	var parts []string
	for _, k := range []string{"model_id", "model", "tool", "tool_name", "verdict", "capability", "finish_reason"} {
		if s := r.String(k); s != "" {
			parts = append(parts, k+"="+s)
		}
	}
	if e, _ := r.Get("error"); truthy(e) {
		if s, ok := e.(string); ok {
			parts = append(parts, "error="+s)
		} else {
			parts = append(parts, "error")
		}
	}
	for i, s := range parts {
		if i > 0 {
			l.Summary += " "
		}
		l.Summary += s
	}
	return l
}

// whyIndex reads, in a second pass over the receipts, the Links of the
// receipts the failed claims' chains can reach (evidence ids and their
// parents, up to maxChain deep), so --why never holds the whole pack.
func (p *packData) whyIndex() error {
	want := map[string]bool{}
	for _, c := range p.claims {
		if c.Passed {
			continue
		}
		for _, id := range c.Evidence {
			seen := map[string]bool{} // per chain: chains may share receipts at different depths
			cur := id
			for i := 0; cur != "" && i <= maxChain && !seen[cur]; i++ {
				seen[cur], want[cur] = true, true
				cur = p.parents[cur]
			}
		}
	}
	p.links = map[string]Link{}
	if len(want) == 0 {
		return nil
	}
	it, err := p.pk.Receipts()
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		if obj, ok := it.Object(); ok {
			if id := obj.String("receipt_id"); want[id] {
				p.links[id] = link(obj)
			}
		}
	}
	return it.Err()
}
