package claims

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

func init() {
	checks["receipt_type_present"] = checkTypePresent
	checks["no_receipt_type"] = checkNoType
	checks["receipt_count_ge"] = checkCountGE
	checks["timestamps_monotonic"] = checkMonotonic
	checks["field_value_matches"] = checkFieldValue
	checks["coverage_contract"] = checkCoverage
	checks["posture_eligible"] = checkPosture
	checks["model_allowlist"] = checkModelAllowlist
	checks["token_budget"] = checkTokenBudget
}

// CheckNames returns the names of the check functions, sorted.
func CheckNames() []string {
	out := make([]string, 0, len(checks))
	for k := range checks {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// requiredParams are the params a check cannot run without; card files
// missing one are refused when loaded.
var requiredParams = map[string][]string{
	"receipt_type_present": {"receipt_type"},
	"no_receipt_type":      {"receipt_type"},
	"field_value_matches":  {"receipt_type", "field_name", "expected_value"},
	"model_allowlist":      {"models"},
	"token_budget":         {"max_total_tokens"},
}

func getStr(r *receipt.Receipt, key string) string {
	if v, ok := r.Get(key); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

func typeOf(r *receipt.Receipt) string { return getStr(r, "type") }
func idOf(r *receipt.Receipt) string   { return getStr(r, "receipt_id") }

func missing(name string) Result {
	return Result{Passed: false, Expected: "param '" + name + "' is set", Actual: "missing param '" + name + "'"}
}

func ofType(receipts []*receipt.Receipt, t string) (ids []string) {
	ids = []string{}
	for _, r := range receipts {
		if typeOf(r) == t {
			ids = append(ids, idOf(r))
		}
	}
	return ids
}

// receipt_type_present: at least one receipt of the type.
func checkTypePresent(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	tv, ok := p["receipt_type"]
	if !ok {
		return missing("receipt_type")
	}
	t := pyStr(tv)
	ids := ofType(receipts, t)
	return Result{
		Passed:             len(ids) > 0,
		Expected:           "at least 1 receipt of type '" + t + "'",
		Actual:             "found " + strconv.Itoa(len(ids)),
		EvidenceReceiptIDs: ids,
	}
}

// no_receipt_type: no receipt of the type.
func checkNoType(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	tv, ok := p["receipt_type"]
	if !ok {
		return missing("receipt_type")
	}
	t := pyStr(tv)
	ids := ofType(receipts, t)
	return Result{
		Passed:             len(ids) == 0,
		Expected:           "0 receipts of type '" + t + "'",
		Actual:             "found " + strconv.Itoa(len(ids)),
		EvidenceReceiptIDs: ids,
	}
}

// receipt_count_ge: at least min_count receipts (default 1).
func checkCountGE(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	var minV any = 1
	if v, ok := p["min_count"]; ok {
		minV = v
	}
	min, ok := numFloat(minV)
	if !ok {
		return Result{Passed: false, Expected: ">= " + pyStr(minV) + " receipts", Actual: "min_count is not a number"}
	}
	return Result{
		Passed:   float64(len(receipts)) >= min,
		Expected: ">= " + pyStr(minV) + " receipts",
		Actual:   strconv.Itoa(len(receipts)) + " receipts",
	}
}

// timestamps_monotonic: string timestamps never decrease; a violation is a
// receipt whose timestamp sorts before the previous timestamped receipt's.
func checkMonotonic(_ map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	var ids []string
	prev, have := "", false
	for _, r := range receipts {
		ts := getStr(r, "timestamp")
		if ts == "" {
			continue
		}
		if have && ts < prev {
			ids = append(ids, idOf(r))
		}
		prev, have = ts, true
	}
	actual := "monotonic"
	if len(ids) > 0 {
		actual = strconv.Itoa(len(ids)) + " violations"
	}
	return Result{Passed: len(ids) == 0, Expected: "timestamps non-decreasing", Actual: actual, EvidenceReceiptIDs: ids}
}

// field_value_matches: every receipt of the type has field == value (Python
// equality); fails when there is no receipt of the type.
func checkFieldValue(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	for _, k := range requiredParams["field_value_matches"] {
		if _, ok := p[k]; !ok {
			return missing(k)
		}
	}
	t, field, want := pyStr(p["receipt_type"]), pyStr(p["field_name"]), p["expected_value"]
	n := 0
	var bad []string
	for _, r := range receipts {
		if typeOf(r) != t {
			continue
		}
		n++
		got, _ := r.Get(field)
		if !pyEqual(got, want) {
			bad = append(bad, idOf(r))
		}
	}
	if n == 0 {
		return Result{Passed: false, Expected: "receipts of type '" + t + "' with " + field + "=" + pyRepr(want), Actual: "no receipts of that type found"}
	}
	return Result{
		Passed:             len(bad) == 0,
		Expected:           "all '" + t + "' receipts: " + field + "=" + pyRepr(want),
		Actual:             fmt.Sprintf("%d mismatches out of %d", len(bad), n),
		EvidenceReceiptIDs: bad,
	}
}

// coverage_contract: the fraction of the contract's call sites seen in the
// receipts' callsite_id is at least min_coverage (default 0.8). The contract
// path resolves against Env.Dir.
func checkCoverage(p map[string]any, receipts []*receipt.Receipt, env Env) Result {
	var u coverage.Unattributed
	for _, r := range receipts {
		u.Add(r)
	}
	return coverageResult(p, coverage.ReceiptIDs(receipts), u, env)
}

// coverageResult measures the receipts' callsite ids (and explains the
// model calls without one) against the contract the params name.
func coverageResult(p map[string]any, ids []string, u coverage.Unattributed, env Env) Result {
	path := "assay.coverage.json"
	if v, ok := p["contract_path"]; ok {
		path = pyStr(v)
	}
	min := 0.8
	if v, ok := p["min_coverage"]; ok {
		f, ok := numFloat(v)
		if !ok {
			return Result{Passed: false, Expected: "min_coverage is a number", Actual: "min_coverage is " + pyRepr(v)}
		}
		min = f
	}
	expected := coverage.Expected(min)
	full := path
	if !filepath.IsAbs(full) && env.Dir != "" {
		full = filepath.Join(env.Dir, full)
	}
	c, err := coverage.Load(full)
	if err != nil {
		// The text feeds the fingerprint: name the path as the card does, not
		// this machine's absolute path.
		msg := err.Error()
		var e *exit.Error
		if errors.As(err, &e) {
			msg = e.Msg
		}
		return Result{Passed: false, Expected: expected, Actual: strings.ReplaceAll(msg, full, path)}
	}
	rep := coverage.Measure(c, ids)
	rep.Explain(u)
	return Result{Passed: rep.Passes(min), Expected: expected, Actual: rep.Actual()}
}

// postureRank orders governance postures (pack-format.md §6.2).
var postureRank = map[string]int{"CLEAN": 3, "DEBT_OUTSTANDING": 2, "DEBT_OVERDUE": 1, "UNKNOWN": 0, "UNAVAILABLE": 0}

// posture_eligible: the latest governance_posture_snapshot (by evaluated_at,
// ties to the later receipt) ranks at least required_posture.
func checkPosture(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	req := "CLEAN"
	if v, ok := p["required_posture"]; ok {
		req = pyStr(v)
	}
	expected := "latest governance posture >= " + req
	var latest *receipt.Receipt
	latestAt := ""
	for _, r := range receipts {
		if typeOf(r) != "governance_posture_snapshot" {
			continue
		}
		at := getStr(r, "evaluated_at")
		if latest == nil || at >= latestAt {
			latest, latestAt = r, at
		}
	}
	if latest == nil {
		return Result{Passed: false, Expected: expected, Actual: "no governance_posture_snapshot receipts found"}
	}
	posture := getStr(latest, "posture")
	if posture == "" {
		posture = getStr(latest, "posture_state")
	}
	if posture == "" {
		posture = "UNKNOWN"
	}
	return Result{
		Passed:             postureRank[posture] >= postureRank[req],
		Expected:           expected,
		Actual:             "posture " + posture,
		EvidenceReceiptIDs: []string{idOf(latest)},
	}
}

// modelOf is a model_call's model: model_id, else model.
func modelOf(r *receipt.Receipt) (string, bool) {
	for _, k := range []string{"model_id", "model"} {
		if s := getStr(r, k); s != "" {
			return s, true
		}
	}
	return "", false
}

// model_allowlist (ours): every model_call names a model in params.models.
// No model_call at all passes.
func checkModelAllowlist(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	mv, ok := p["models"]
	if !ok {
		return missing("models")
	}
	list, ok := asList(mv)
	if !ok {
		return Result{Passed: false, Expected: "models is a list of model names", Actual: "models is " + pyRepr(mv)}
	}
	allowed := map[string]bool{}
	for _, m := range list {
		allowed[pyStr(m)] = true
	}
	n := 0
	var bad []string
	seen := map[string]bool{}
	var badModels []any
	for _, r := range receipts {
		if typeOf(r) != "model_call" {
			continue
		}
		n++
		m, ok := modelOf(r)
		if ok && allowed[m] {
			continue
		}
		bad = append(bad, idOf(r))
		var key any = m
		if !ok {
			key = nil
		}
		if !seen[m] {
			seen[m] = true
			badModels = append(badModels, key)
		}
	}
	actual := fmt.Sprintf("%d disallowed out of %d", len(bad), n)
	if len(bad) > 0 {
		actual += ": " + pyRepr(badModels)
	}
	return Result{
		Passed:             len(bad) == 0,
		Expected:           "all 'model_call' receipts use a model in " + pyRepr(list),
		Actual:             actual,
		EvidenceReceiptIDs: bad,
	}
}

// tokensOf is a model_call's total tokens: total_tokens, else input_tokens +
// output_tokens (top level, or under usage).
func tokensOf(r *receipt.Receipt) float64 {
	from := func(get func(string) (any, bool)) (float64, bool) {
		if v, ok := get("total_tokens"); ok {
			if f, ok := numFloat(v); ok {
				return f, true
			}
		}
		in, okIn := get("input_tokens")
		out, okOut := get("output_tokens")
		fi, _ := numFloat(in)
		fo, _ := numFloat(out)
		return fi + fo, okIn || okOut
	}
	if f, ok := from(r.Get); ok {
		return f
	}
	if u, ok := r.Get("usage"); ok {
		if o, ok := u.(*canon.Object); ok {
			f, _ := from(o.Get)
			return f
		}
	}
	return 0
}

// token_budget (ours): the tokens of all model_call receipts add up to at
// most params.max_total_tokens. On failure the evidence is the largest calls.
func checkTokenBudget(p map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	mv, ok := p["max_total_tokens"]
	if !ok {
		return missing("max_total_tokens")
	}
	max, ok := numFloat(mv)
	expected := "<= " + pyStr(mv) + " total tokens across 'model_call' receipts"
	if !ok {
		return Result{Passed: false, Expected: expected, Actual: "max_total_tokens is not a number"}
	}
	type call struct {
		id     string
		tokens float64
	}
	var calls []call
	total := 0.0
	for _, r := range receipts {
		if typeOf(r) != "model_call" {
			continue
		}
		t := tokensOf(r)
		total += t
		calls = append(calls, call{idOf(r), t})
	}
	res := Result{
		Passed:   total <= max,
		Expected: expected,
		Actual:   fmt.Sprintf("%s total tokens in %d receipts", formatCount(total), len(calls)),
	}
	if !res.Passed {
		sort.SliceStable(calls, func(i, j int) bool { return calls[i].tokens > calls[j].tokens })
		for _, c := range calls {
			res.EvidenceReceiptIDs = append(res.EvidenceReceiptIDs, c.id)
		}
	}
	return res
}

func formatCount(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloatRepr(f)
}
