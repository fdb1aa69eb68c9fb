package claims

import (
	"fmt"
	"github.com/assay-dev/assay/core/coverage"
	"strconv"

	"github.com/assay-dev/assay/core/receipt"
)

// evidenceCap is how many evidence receipt ids a result keeps (Evaluate
// truncates to the same number).
const evidenceCap = 5

// Evaluator evaluates claims over receipts fed one at a time in pack order,
// so a pack builder need not hold every receipt: each claim keeps counters,
// at most evidenceCap receipt ids, and what its check needs across receipts
// (distinct call sites, distinct disallowed models). Its Verification is
// equal to Evaluate's over the same receipts in the same order.
type Evaluator struct {
	claims []Claim
	env    Env
	states []streamCheck
	n      int
}

// streamCheck is the incremental form of one check.
type streamCheck interface {
	add(r *receipt.Receipt)
	result(n int) Result
}

// streamCtor builds a check's incremental form from its params.
type streamCtor func(params map[string]any, env Env) streamCheck

// streamChecks are the incremental forms of the checks in checks.go. A check
// without one falls back to buffering its receipts (bufferedCheck).
var streamChecks = map[string]streamCtor{
	"receipt_type_present": func(p map[string]any, _ Env) streamCheck { return newTypeCount(p, true) },
	"no_receipt_type":      func(p map[string]any, _ Env) streamCheck { return newTypeCount(p, false) },
	"receipt_count_ge":     newCountGE,
	"timestamps_monotonic": func(map[string]any, Env) streamCheck { return &monotonic{} },
	"field_value_matches":  newFieldValue,
	"coverage_contract":    newCoverage,
	"posture_eligible":     newPosture,
	"model_allowlist":      newModelAllowlist,
	"token_budget":         newTokenBudget,
}

// NewEvaluator returns an Evaluator for the claims.
func NewEvaluator(claims []Claim, env Env) *Evaluator {
	e := &Evaluator{claims: claims, env: env, states: make([]streamCheck, len(claims))}
	for i, c := range claims {
		params := c.Params
		if params == nil {
			params = map[string]any{}
		}
		fn, known := checks[c.Check]
		if !known || !validSeverity(c.Severity) {
			continue // evaluateOne decides without receipts
		}
		if ctor, ok := streamChecks[c.Check]; ok {
			e.states[i] = ctor(params, env)
		} else {
			e.states[i] = &bufferedCheck{fn: fn, params: params, env: env}
		}
	}
	return e
}

func validSeverity(s string) bool { return s == "" || s == Critical || s == Warning }

// Add feeds the next receipt in pack order.
func (e *Evaluator) Add(r *receipt.Receipt) {
	e.n++
	for _, s := range e.states {
		if s != nil {
			s.add(r)
		}
	}
}

// Finish returns the claim_verification object, as Evaluate would.
func (e *Evaluator) Finish(policyHash, suiteHash string) (*Verification, error) {
	return assemble(e.claims, func(i int, c Claim) Result {
		if e.states[i] == nil {
			return evaluateOne(c, nil, e.env)
		}
		r := e.states[i].result(e.n)
		r.ClaimID = c.ClaimID
		r.Severity = c.Severity
		if r.Severity == "" {
			r.Severity = Critical
		}
		return r
	}, policyHash, suiteHash)
}

// bufferedCheck holds every receipt for a check that has no incremental
// form, so new checks work (with O(n) memory) until they get one.
type bufferedCheck struct {
	fn     CheckFunc
	params map[string]any
	env    Env
	recs   []*receipt.Receipt
}

func (b *bufferedCheck) add(r *receipt.Receipt) { b.recs = append(b.recs, r) }
func (b *bufferedCheck) result(int) Result      { return b.fn(b.params, b.recs, b.env) }

// fixed is a check whose result does not depend on the receipts (bad
// params).
type fixed Result

func (f fixed) add(*receipt.Receipt) {}
func (f fixed) result(int) Result    { return Result(f) }

// ids keeps the first evidenceCap receipt ids and counts them all.
type ids struct {
	n     int
	first []string
}

func (s *ids) add(id string) {
	s.n++
	if len(s.first) < evidenceCap {
		s.first = append(s.first, id)
	}
}

type typeCount struct {
	t       string
	present bool
	ids
}

func newTypeCount(p map[string]any, present bool) streamCheck {
	tv, ok := p["receipt_type"]
	if !ok {
		return fixed(missing("receipt_type"))
	}
	return &typeCount{t: pyStr(tv), present: present}
}

func (c *typeCount) add(r *receipt.Receipt) {
	if typeOf(r) == c.t {
		c.ids.add(idOf(r))
	}
}

func (c *typeCount) result(int) Result {
	ev := append([]string{}, c.first...)
	if c.present {
		return Result{Passed: c.n > 0, Expected: "at least 1 receipt of type '" + c.t + "'", Actual: "found " + strconv.Itoa(c.n), EvidenceReceiptIDs: ev}
	}
	return Result{Passed: c.n == 0, Expected: "0 receipts of type '" + c.t + "'", Actual: "found " + strconv.Itoa(c.n), EvidenceReceiptIDs: ev}
}

type countGE struct {
	minV any
	min  float64
}

func newCountGE(p map[string]any, _ Env) streamCheck {
	var minV any = 1
	if v, ok := p["min_count"]; ok {
		minV = v
	}
	min, ok := numFloat(minV)
	if !ok {
		return fixed(Result{Passed: false, Expected: ">= " + pyStr(minV) + " receipts", Actual: "min_count is not a number"})
	}
	return &countGE{minV: minV, min: min}
}

func (c *countGE) add(*receipt.Receipt) {}
func (c *countGE) result(n int) Result {
	return Result{Passed: float64(n) >= c.min, Expected: ">= " + pyStr(c.minV) + " receipts", Actual: strconv.Itoa(n) + " receipts"}
}

type monotonic struct {
	prev string
	have bool
	ids
}

func (m *monotonic) add(r *receipt.Receipt) {
	ts := getStr(r, "timestamp")
	if ts == "" {
		return
	}
	if m.have && ts < m.prev {
		m.ids.add(idOf(r))
	}
	m.prev, m.have = ts, true
}

func (m *monotonic) result(int) Result {
	actual := "monotonic"
	if m.n > 0 {
		actual = strconv.Itoa(m.n) + " violations"
	}
	return Result{Passed: m.n == 0, Expected: "timestamps non-decreasing", Actual: actual, EvidenceReceiptIDs: m.first}
}

type fieldValue struct {
	t, field string
	want     any
	n        int
	bad      ids
}

func newFieldValue(p map[string]any, _ Env) streamCheck {
	for _, k := range requiredParams["field_value_matches"] {
		if _, ok := p[k]; !ok {
			return fixed(missing(k))
		}
	}
	return &fieldValue{t: pyStr(p["receipt_type"]), field: pyStr(p["field_name"]), want: p["expected_value"]}
}

func (f *fieldValue) add(r *receipt.Receipt) {
	if typeOf(r) != f.t {
		return
	}
	f.n++
	got, _ := r.Get(f.field)
	if !pyEqual(got, f.want) {
		f.bad.add(idOf(r))
	}
}

func (f *fieldValue) result(int) Result {
	if f.n == 0 {
		return Result{Passed: false, Expected: "receipts of type '" + f.t + "' with " + f.field + "=" + pyRepr(f.want), Actual: "no receipts of that type found"}
	}
	return Result{
		Passed:             f.bad.n == 0,
		Expected:           "all '" + f.t + "' receipts: " + f.field + "=" + pyRepr(f.want),
		Actual:             fmt.Sprintf("%d mismatches out of %d", f.bad.n, f.n),
		EvidenceReceiptIDs: f.bad.first,
	}
}

// coverageStream collects the distinct call sites; the contract is loaded
// (and its errors reported) by the batch check at the end.
type coverageStream struct {
	params map[string]any
	env    Env
	seen   map[string]bool
	un     coverage.Unattributed
}

func newCoverage(p map[string]any, env Env) streamCheck {
	return &coverageStream{params: p, env: env, seen: map[string]bool{}}
}

func (c *coverageStream) add(r *receipt.Receipt) {
	if s := getStr(r, "callsite_id"); s != "" {
		c.seen[s] = true
	}
	c.un.Add(r)
}

func (c *coverageStream) result(int) Result {
	// coverage.Measure reads only the set of callsite ids.
	ids := make([]string, 0, len(c.seen))
	for id := range c.seen {
		ids = append(ids, id)
	}
	return coverageResult(c.params, ids, c.un, c.env)
}

type posture struct {
	req, expected string
	found         bool
	latestAt      string
	id, posture   string
}

func newPosture(p map[string]any, _ Env) streamCheck {
	req := "CLEAN"
	if v, ok := p["required_posture"]; ok {
		req = pyStr(v)
	}
	return &posture{req: req, expected: "latest governance posture >= " + req}
}

func (p *posture) add(r *receipt.Receipt) {
	if typeOf(r) != "governance_posture_snapshot" {
		return
	}
	at := getStr(r, "evaluated_at")
	if !p.found || at >= p.latestAt {
		p.found, p.latestAt = true, at
		p.id = idOf(r)
		p.posture = getStr(r, "posture")
		if p.posture == "" {
			p.posture = getStr(r, "posture_state")
		}
	}
}

func (p *posture) result(int) Result {
	if !p.found {
		return Result{Passed: false, Expected: p.expected, Actual: "no governance_posture_snapshot receipts found"}
	}
	ps := p.posture
	if ps == "" {
		ps = "UNKNOWN"
	}
	return Result{Passed: postureRank[ps] >= postureRank[p.req], Expected: p.expected, Actual: "posture " + ps, EvidenceReceiptIDs: []string{p.id}}
}

type modelAllowlist struct {
	list      []any
	allowed   map[string]bool
	n         int
	bad       ids
	seen      map[string]bool
	badModels []any
}

func newModelAllowlist(p map[string]any, _ Env) streamCheck {
	mv, ok := p["models"]
	if !ok {
		return fixed(missing("models"))
	}
	list, ok := asList(mv)
	if !ok {
		return fixed(Result{Passed: false, Expected: "models is a list of model names", Actual: "models is " + pyRepr(mv)})
	}
	m := &modelAllowlist{list: list, allowed: map[string]bool{}, seen: map[string]bool{}}
	for _, x := range list {
		m.allowed[pyStr(x)] = true
	}
	return m
}

func (m *modelAllowlist) add(r *receipt.Receipt) {
	if typeOf(r) != "model_call" {
		return
	}
	m.n++
	model, ok := modelOf(r)
	if ok && m.allowed[model] {
		return
	}
	m.bad.add(idOf(r))
	var key any = model
	if !ok {
		key = nil
	}
	if !m.seen[model] {
		m.seen[model] = true
		m.badModels = append(m.badModels, key)
	}
}

func (m *modelAllowlist) result(int) Result {
	actual := fmt.Sprintf("%d disallowed out of %d", m.bad.n, m.n)
	if m.bad.n > 0 {
		actual += ": " + pyRepr(m.badModels)
	}
	return Result{Passed: m.bad.n == 0, Expected: "all 'model_call' receipts use a model in " + pyRepr(m.list), Actual: actual, EvidenceReceiptIDs: m.bad.first}
}

type tokenCall struct {
	id     string
	tokens float64
}

type tokenBudget struct {
	expected string
	max      float64
	total    float64
	n        int
	top      []tokenCall // the largest calls, earlier first among equals
}

func newTokenBudget(p map[string]any, _ Env) streamCheck {
	mv, ok := p["max_total_tokens"]
	if !ok {
		return fixed(missing("max_total_tokens"))
	}
	max, ok := numFloat(mv)
	expected := "<= " + pyStr(mv) + " total tokens across 'model_call' receipts"
	if !ok {
		return fixed(Result{Passed: false, Expected: expected, Actual: "max_total_tokens is not a number"})
	}
	return &tokenBudget{expected: expected, max: max}
}

func (t *tokenBudget) add(r *receipt.Receipt) {
	if typeOf(r) != "model_call" {
		return
	}
	tok := tokensOf(r)
	t.total += tok
	t.n++
	// A stable sort by tokens, descending, keeps earlier calls first among
	// equals: a later call enters the top only when strictly larger.
	if len(t.top) == evidenceCap && !(tok > t.top[len(t.top)-1].tokens) {
		return
	}
	i := len(t.top)
	for i > 0 && tok > t.top[i-1].tokens {
		i--
	}
	c := tokenCall{idOf(r), tok}
	if len(t.top) < evidenceCap {
		t.top = append(t.top, tokenCall{})
	}
	copy(t.top[i+1:], t.top[i:len(t.top)-1])
	t.top[i] = c
}

func (t *tokenBudget) result(int) Result {
	res := Result{
		Passed:   t.total <= t.max,
		Expected: t.expected,
		Actual:   fmt.Sprintf("%s total tokens in %d receipts", formatCount(t.total), t.n),
	}
	if !res.Passed {
		for _, c := range t.top {
			res.EvidenceReceiptIDs = append(res.EvidenceReceiptIDs, c.id)
		}
	}
	return res
}

// assemble builds the Verification from one result per claim (Evaluate and
// the incremental Evaluator alike): evidence capped at evidenceCap ids,
// counts, the fingerprint.
func assemble(claims []Claim, result func(int, Claim) Result, policyHash, suiteHash string) (*Verification, error) {
	v := &Verification{Passed: true, NClaims: len(claims), Results: make([]Result, 0, len(claims))}
	for i, c := range claims {
		r := result(i, c)
		if r.EvidenceReceiptIDs == nil {
			r.EvidenceReceiptIDs = []string{}
		}
		if len(r.EvidenceReceiptIDs) > evidenceCap {
			r.EvidenceReceiptIDs = r.EvidenceReceiptIDs[:evidenceCap]
		}
		r.FalsifierStatus = "not_required"
		if r.Passed {
			v.NPassed++
		} else {
			v.NFailed++
			if r.Severity == Critical {
				v.Passed = false
			}
		}
		v.Results = append(v.Results, r)
	}
	fp, err := Fingerprint(policyHash, suiteHash, v.Results)
	if err != nil {
		return nil, err
	}
	v.DiscrepancyFingerprint = fp
	return v, nil
}
