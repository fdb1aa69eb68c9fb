package claims

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/receipt"
)

// streamClaims covers every check, with good and bad params, an unknown
// check and a bad severity.
func streamClaims() []Claim {
	return []Claim{
		{ClaimID: "tp", Check: "receipt_type_present", Params: map[string]any{"receipt_type": "model_call"}},
		{ClaimID: "tp-none", Check: "receipt_type_present", Params: map[string]any{"receipt_type": "refusal"}},
		{ClaimID: "tp-missing", Check: "receipt_type_present"},
		{ClaimID: "nt", Check: "no_receipt_type", Params: map[string]any{"receipt_type": "guardian_verdict"}, Severity: Warning},
		{ClaimID: "cnt", Check: "receipt_count_ge", Params: map[string]any{"min_count": 7}},
		{ClaimID: "cnt-def", Check: "receipt_count_ge"},
		{ClaimID: "cnt-bad", Check: "receipt_count_ge", Params: map[string]any{"min_count": "x"}},
		{ClaimID: "mono", Check: "timestamps_monotonic"},
		{ClaimID: "fv", Check: "field_value_matches", Params: map[string]any{"receipt_type": "model_call", "field_name": "schema_version", "expected_value": "3.0"}},
		{ClaimID: "fv-none", Check: "field_value_matches", Params: map[string]any{"receipt_type": "refusal", "field_name": "x", "expected_value": nil}},
		{ClaimID: "fv-missing", Check: "field_value_matches", Params: map[string]any{"receipt_type": "model_call"}},
		{ClaimID: "cov", Check: "coverage_contract", Params: map[string]any{"min_coverage": 0.5}},
		{ClaimID: "cov-missing", Check: "coverage_contract", Params: map[string]any{"contract_path": "nope.json"}},
		{ClaimID: "cov-bad", Check: "coverage_contract", Params: map[string]any{"min_coverage": "high"}},
		{ClaimID: "post", Check: "posture_eligible", Params: map[string]any{"required_posture": "DEBT_OUTSTANDING"}},
		{ClaimID: "allow", Check: "model_allowlist", Params: map[string]any{"models": []any{"gpt-4o"}}},
		{ClaimID: "allow-bad", Check: "model_allowlist", Params: map[string]any{"models": "gpt-4o"}},
		{ClaimID: "allow-missing", Check: "model_allowlist"},
		{ClaimID: "budget", Check: "token_budget", Params: map[string]any{"max_total_tokens": 300}},
		{ClaimID: "budget-big", Check: "token_budget", Params: map[string]any{"max_total_tokens": 1e12}},
		{ClaimID: "budget-bad", Check: "token_budget", Params: map[string]any{"max_total_tokens": "many"}},
		{ClaimID: "unknown", Check: "no_such_check"},
		{ClaimID: "sev", Check: "receipt_count_ge", Severity: "fatal"},
	}
}

// randomReceipts makes receipts with every field the checks read, often
// missing or of the wrong type, and with many ties.
func randomReceipts(t *testing.T, rng *rand.Rand, n int) []*receipt.Receipt {
	types := []string{"model_call", "model_call", "guardian_verdict", "governance_posture_snapshot", "mcp_tool_call"}
	models := []any{"gpt-4o", "claude", nil, 3}
	postures := []string{"CLEAN", "DEBT_OUTSTANDING", "DEBT_OVERDUE", "UNKNOWN", ""}
	var lines []string
	for i := 0; i < n; i++ {
		m := map[string]any{"receipt_id": fmt.Sprintf("r%d", rng.Intn(n+1))}
		if rng.Intn(10) > 0 {
			m["type"] = types[rng.Intn(len(types))]
		}
		switch rng.Intn(6) {
		case 0:
		case 1:
			m["timestamp"] = 12
		default:
			m["timestamp"] = fmt.Sprintf("2026-01-01T00:00:%02d+00:00", rng.Intn(8))
		}
		if rng.Intn(3) > 0 {
			m["schema_version"] = []any{"3.0", 3, "2.0"}[rng.Intn(3)]
		}
		if k := rng.Intn(3); k > 0 {
			m[[]string{"", "model_id", "model"}[k]] = models[rng.Intn(len(models))]
		}
		switch rng.Intn(4) {
		case 0:
			m["total_tokens"] = rng.Intn(100)
		case 1:
			m["input_tokens"], m["output_tokens"] = rng.Intn(50), rng.Intn(50)
		case 2:
			m["usage"] = map[string]any{"input_tokens": rng.Intn(10), "output_tokens": 3}
		}
		if rng.Intn(2) == 0 {
			m["callsite_id"] = fmt.Sprintf("cs%d", rng.Intn(6))
		}
		m["evaluated_at"] = fmt.Sprintf("2026-01-0%d", rng.Intn(4))
		m["posture"] = postures[rng.Intn(len(postures))]
		b, _ := json.Marshal(m)
		lines = append(lines, string(b))
	}
	return receipts(t, lines...)
}

// The incremental Evaluator gives exactly Evaluate's Verification, for
// every check, over many receipt mixes (empty included).
func TestEvaluatorMatchesEvaluate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	contract := `{"contract_version":"1.0","call_sites":[{"callsite_id":"cs0","path":"a.py","line":1,"call":"c.create","confidence":"high","instrumented":false,"framework":"openai"},{"callsite_id":"cs1","path":"a.py","line":2,"call":"c.create","confidence":"high","instrumented":false,"framework":"openai"},{"callsite_id":"cs9","path":"b.py","line":3,"call":"c.create","confidence":"high","instrumented":false,"framework":"openai"}]}`
	if err := os.WriteFile(filepath.Join(dir, "assay.coverage.json"), []byte(contract), 0o644); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir}
	cl := streamClaims()
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 200; round++ {
		rs := randomReceipts(t, rng, rng.Intn(40))
		want, err := Evaluate(cl, rs, env, "p", "s")
		if err != nil {
			t.Fatal(err)
		}
		e := NewEvaluator(cl, env)
		for _, r := range rs {
			e.Add(r)
		}
		got, err := e.Finish("p", "s")
		if err != nil {
			t.Fatal(err)
		}
		if a := want.Results[11].Actual; !strings.Contains(a, "/3)") {
			t.Fatalf("the coverage contract did not load: %q", a)
		}
		if !reflect.DeepEqual(got, want) {
			for i := range want.Results {
				if !reflect.DeepEqual(got.Results[i], want.Results[i]) {
					t.Errorf("round %d claim %s:\n got %+v\nwant %+v", round, want.Results[i].ClaimID, got.Results[i], want.Results[i])
				}
			}
			t.Fatalf("round %d: verification differs", round)
		}
	}
}

// A check with no incremental form still evaluates (buffered).
func TestEvaluatorBufferedFallback(t *testing.T) {
	t.Parallel()
	checks["test_only_len_even"] = func(_ map[string]any, rs []*receipt.Receipt, _ Env) Result {
		return Result{Passed: len(rs)%2 == 0, Expected: "even", Actual: fmt.Sprint(len(rs))}
	}
	defer delete(checks, "test_only_len_even")
	cl := []Claim{{ClaimID: "x", Check: "test_only_len_even"}}
	rs := receipts(t, mc1, mc2, gv)
	want, _ := Evaluate(cl, rs, Env{}, "p", "s")
	e := NewEvaluator(cl, Env{})
	for _, r := range rs {
		e.Add(r)
	}
	got, _ := e.Finish("p", "s")
	if !reflect.DeepEqual(got, want) || got.Results[0].Actual != "3" {
		t.Fatalf("got %+v want %+v", got, want)
	}
}
