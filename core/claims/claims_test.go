package claims

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

const refDir = "../../testdata/vectors/reference-1.24"

// receipts decodes JSON lines into receipts.
func receipts(t *testing.T, lines ...string) []*receipt.Receipt {
	t.Helper()
	var out []*receipt.Receipt
	for _, l := range lines {
		v, err := canon.Decode([]byte(l))
		if err != nil {
			t.Fatalf("decode %s: %v", l, err)
		}
		out = append(out, v.(*canon.Object))
	}
	return out
}

func readPackReceipts(t *testing.T, dir string) []*receipt.Receipt {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "receipt_pack.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		lines = append(lines, string(l))
	}
	return receipts(t, lines...)
}

// The reference's per-card claim_set_hash values: full where a reference
// artifact (assay.lock) holds them, else the ends pack-format.md §6.2 shows.
func TestBuiltinHashes(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, head, tail string }{
		{"guardian_enforcement", "200503a9", "0a71"},
		{"receipt_completeness", "0b9affe4a6e67d069cb3413aaf982fc05110dae0af8a0b4dce180e63e5d564dc", ""},
		{"no_breakglass", "83409a8d647ddd43129e8c5017bcaa18f56ffa2cf00f79a651700a4af2ebb80f", ""},
		{"timestamp_ordering", "717b621a1cb1ddf669712f53dea533fb6f913ff57dd8e4688647190467ce0d62", ""},
		{"schema_consistency", "79db0a6c452a4134c1eeab9c73741062a0ad8bd2f6de3f95b4eae9d2eecfefe9", ""},
		// pack-format.md §6.2 gives this one in full, with its texts.
		{"coverage_contract", "ecc0e258022ee817c4238435980d785cecc75fb1746d9b83f119be42bbef222f", ""},
	}
	for _, tc := range tests {
		c, ok := Builtin(tc.id)
		if !ok {
			t.Fatalf("no built-in %s", tc.id)
		}
		h, err := SetHash(c.Claims)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, tc.head) || !strings.HasSuffix(h, tc.tail) {
			t.Errorf("%s: claim_set_hash %s, want %s…%s", tc.id, h, tc.head, tc.tail)
		}
	}
}

func TestBuiltinIDs(t *testing.T) {
	t.Parallel()
	want := []string{"coverage_contract", "guardian_enforcement", "mcp_session_complete", "model_allowlist", "no_breakglass", "receipt_completeness", "schema_consistency", "timestamp_ordering", "token_budget"}
	if got := BuiltinIDs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("BuiltinIDs = %v", got)
	}
	// Builtin hands out copies: changing one must not change the next.
	c, _ := Builtin("receipt_completeness")
	c.Claims[0].Params["min_count"] = 99
	c2, _ := Builtin("receipt_completeness")
	if c2.Claims[0].Params["min_count"] != 1 {
		t.Fatal("Builtin returned shared params")
	}
}

// The reference's run_pack: the four cards it was built with must give its
// claim_set_hash, and its receipts its claim_verification (fingerprint included).
func TestReferenceRunPack(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(refDir, "run_pack")
	var man struct {
		ClaimSetHash string `json:"claim_set_hash"`
		Attestation  struct {
			PolicyHash             string `json:"policy_hash"`
			SuiteHash              string `json:"suite_hash"`
			DiscrepancyFingerprint string `json:"discrepancy_fingerprint"`
		} `json:"attestation"`
	}
	mb, _ := os.ReadFile(filepath.Join(dir, "pack_manifest.json"))
	if err := json.Unmarshal(mb, &man); err != nil {
		t.Fatal(err)
	}
	cards, err := LoadAll([]string{"receipt_completeness", "no_breakglass", "timestamp_ordering", "schema_consistency"})
	if err != nil {
		t.Fatal(err)
	}
	flat := Flatten(cards)
	h, _ := SetHash(flat)
	if h != man.ClaimSetHash {
		t.Fatalf("claim_set_hash %s, pack says %s", h, man.ClaimSetHash)
	}
	v, err := Evaluate(flat, readPackReceipts(t, dir), Env{}, man.Attestation.PolicyHash, man.Attestation.SuiteHash)
	if err != nil {
		t.Fatal(err)
	}
	if v.DiscrepancyFingerprint != man.Attestation.DiscrepancyFingerprint {
		t.Errorf("fingerprint %s, want %s", v.DiscrepancyFingerprint, man.Attestation.DiscrepancyFingerprint)
	}
	var rep struct {
		CV json.RawMessage `json:"claim_verification"`
	}
	rb, _ := os.ReadFile(filepath.Join(dir, "verify_report.json"))
	if err := json.Unmarshal(rb, &rep); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	want, wantErr := canon.Marshal(rep.CV)
	gotC, gotErr := canon.Marshal(json.RawMessage(got))
	if wantErr != nil || gotErr != nil || !bytes.Equal(gotC, want) {
		t.Errorf("claim_verification differs:\n got %s\nwant %s", gotC, want)
	}
}

const (
	mc1  = `{"receipt_id":"r1","type":"model_call","schema_version":"3.0","timestamp":"2026-01-01T00:00:01+00:00","model_id":"gpt-4o","total_tokens":100}`
	mc2  = `{"receipt_id":"r2","type":"model_call","schema_version":"2.0","timestamp":"2026-01-01T00:00:00+00:00","model":"claude-sonnet-4","input_tokens":30,"output_tokens":20}`
	gv   = `{"receipt_id":"r3","type":"guardian_verdict","timestamp":"2026-01-01T00:00:02+00:00"}`
	bg   = `{"receipt_id":"r4","type":"breakglass","timestamp":"2026-01-01T00:00:03+00:00"}`
	mc3  = `{"receipt_id":"r5","type":"model_call","schema_version":3.0,"timestamp":"2026-01-01T00:00:04+00:00","usage":{"input_tokens":7,"output_tokens":3}}`
	cuse = `{"receipt_id":"r6","type":"capability_use","timestamp":12}`
)

func TestChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		check    string
		params   map[string]any
		rs       []string
		passed   bool
		expected string
		actual   string
		evidence []string
	}{
		{"type present", "receipt_type_present", map[string]any{"receipt_type": "model_call"}, []string{mc1, gv, mc2}, true, "at least 1 receipt of type 'model_call'", "found 2", []string{"r1", "r2"}},
		{"type absent", "receipt_type_present", map[string]any{"receipt_type": "guardian_verdict"}, []string{mc1}, false, "at least 1 receipt of type 'guardian_verdict'", "found 0", []string{}},
		{"no type ok", "no_receipt_type", map[string]any{"receipt_type": "breakglass"}, []string{mc1, gv}, true, "0 receipts of type 'breakglass'", "found 0", []string{}},
		{"no type hit", "no_receipt_type", map[string]any{"receipt_type": "breakglass"}, []string{mc1, bg, bg}, false, "0 receipts of type 'breakglass'", "found 2", []string{"r4", "r4"}},
		{"count ok", "receipt_count_ge", map[string]any{"min_count": 2}, []string{mc1, gv}, true, ">= 2 receipts", "2 receipts", []string{}},
		{"count low", "receipt_count_ge", map[string]any{"min_count": 3}, []string{mc1}, false, ">= 3 receipts", "1 receipts", []string{}},
		{"count float param", "receipt_count_ge", map[string]any{"min_count": json.Number("1.0")}, []string{mc1}, true, ">= 1.0 receipts", "1 receipts", []string{}},
		{"count default", "receipt_count_ge", map[string]any{}, nil, false, ">= 1 receipts", "0 receipts", []string{}},
		{"monotonic", "timestamps_monotonic", nil, []string{mc2, mc1, gv}, true, "timestamps non-decreasing", "monotonic", []string{}},
		{"not monotonic", "timestamps_monotonic", nil, []string{mc1, mc2, gv, mc2}, false, "timestamps non-decreasing", "2 violations", []string{"r2", "r2"}},
		{"monotonic skips non-strings", "timestamps_monotonic", nil, []string{mc1, cuse, gv}, true, "timestamps non-decreasing", "monotonic", []string{}},
		{"field all match", "field_value_matches", map[string]any{"receipt_type": "model_call", "field_name": "schema_version", "expected_value": "3.0"}, []string{mc1, gv}, true, "all 'model_call' receipts: schema_version='3.0'", "0 mismatches out of 1", []string{}},
		{"field mismatch", "field_value_matches", map[string]any{"receipt_type": "model_call", "field_name": "schema_version", "expected_value": "3.0"}, []string{mc1, mc2, mc3}, false, "all 'model_call' receipts: schema_version='3.0'", "2 mismatches out of 3", []string{"r2", "r5"}},
		{"field numeric equality", "field_value_matches", map[string]any{"receipt_type": "model_call", "field_name": "schema_version", "expected_value": 3}, []string{mc3}, true, "all 'model_call' receipts: schema_version=3", "0 mismatches out of 1", []string{}},
		{"field none", "field_value_matches", map[string]any{"receipt_type": "refusal", "field_name": "x", "expected_value": nil}, []string{mc1}, false, "receipts of type 'refusal' with x=None", "no receipts of that type found", []string{}},
		{"field repr quote", "field_value_matches", map[string]any{"receipt_type": "model_call", "field_name": "n", "expected_value": "it's"}, []string{mc1}, false, `all 'model_call' receipts: n="it's"`, "1 mismatches out of 1", []string{"r1"}},
		{"field repr bool", "field_value_matches", map[string]any{"receipt_type": "model_call", "field_name": "x", "expected_value": true}, []string{mc1}, false, "all 'model_call' receipts: x=True", "1 mismatches out of 1", []string{"r1"}},
		{"posture clean", "posture_eligible", map[string]any{"required_posture": "DEBT_OUTSTANDING"}, []string{
			`{"receipt_id":"p1","type":"governance_posture_snapshot","evaluated_at":"2026-01-02","posture":"DEBT_OVERDUE"}`,
			`{"receipt_id":"p2","type":"governance_posture_snapshot","evaluated_at":"2026-01-03","posture":"CLEAN"}`,
			`{"receipt_id":"p3","type":"governance_posture_snapshot","evaluated_at":"2026-01-01","posture":"UNKNOWN"}`,
		}, true, "latest governance posture >= DEBT_OUTSTANDING", "posture CLEAN", []string{"p2"}},
		{"posture tie later wins", "posture_eligible", map[string]any{}, []string{
			`{"receipt_id":"p1","type":"governance_posture_snapshot","evaluated_at":"2026-01-03","posture":"CLEAN"}`,
			`{"receipt_id":"p2","type":"governance_posture_snapshot","evaluated_at":"2026-01-03","posture":"DEBT_OVERDUE"}`,
		}, false, "latest governance posture >= CLEAN", "posture DEBT_OVERDUE", []string{"p2"}},
		{"posture none", "posture_eligible", map[string]any{}, []string{mc1}, false, "latest governance posture >= CLEAN", "no governance_posture_snapshot receipts found", []string{}},
		{"allowlist ok", "model_allowlist", map[string]any{"models": []any{"gpt-4o", "claude-sonnet-4"}}, []string{mc1, mc2, gv}, true, "all 'model_call' receipts use a model in ['gpt-4o', 'claude-sonnet-4']", "0 disallowed out of 2", []string{}},
		{"allowlist swap", "model_allowlist", map[string]any{"models": []any{"gpt-4o"}}, []string{mc1, mc2, mc3}, false, "all 'model_call' receipts use a model in ['gpt-4o']", "2 disallowed out of 3: ['claude-sonnet-4', None]", []string{"r2", "r5"}},
		{"allowlist no calls", "model_allowlist", map[string]any{"models": []any{}}, []string{gv}, true, "all 'model_call' receipts use a model in []", "0 disallowed out of 0", []string{}},
		{"budget ok", "token_budget", map[string]any{"max_total_tokens": 160}, []string{mc1, mc2, mc3, gv}, true, "<= 160 total tokens across 'model_call' receipts", "160 total tokens in 3 receipts", []string{}},
		{"budget over", "token_budget", map[string]any{"max_total_tokens": 159}, []string{mc2, mc1, mc3}, false, "<= 159 total tokens across 'model_call' receipts", "160 total tokens in 3 receipts", []string{"r1", "r2", "r5"}},
		{"missing param", "receipt_type_present", map[string]any{}, []string{mc1}, false, "param 'receipt_type' is set", "missing param 'receipt_type'", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl := Claim{ClaimID: "c", Check: tc.check, Params: tc.params, Severity: Warning}
			v, err := Evaluate([]Claim{cl}, receipts(t, tc.rs...), Env{}, "p", "s")
			if err != nil {
				t.Fatal(err)
			}
			r := v.Results[0]
			if r.Passed != tc.passed || r.Expected != tc.expected || r.Actual != tc.actual || !reflect.DeepEqual(r.EvidenceReceiptIDs, tc.evidence) {
				t.Errorf("got passed=%v expected=%q actual=%q evidence=%v\nwant passed=%v expected=%q actual=%q evidence=%v",
					r.Passed, r.Expected, r.Actual, r.EvidenceReceiptIDs, tc.passed, tc.expected, tc.actual, tc.evidence)
			}
			if r.Severity != Warning || r.ClaimID != "c" || r.FalsifierStatus != "not_required" {
				t.Errorf("frame fields: %+v", r)
			}
		})
	}
}

func TestCoverageCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(refDir, "scan_sample", "contract.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "assay.coverage.json"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	var c struct {
		CallSites []struct {
			ID string `json:"callsite_id"`
		} `json:"call_sites"`
	}
	if err := json.Unmarshal(src, &c); err != nil || len(c.CallSites) < 2 {
		t.Fatalf("contract fixture: %v", err)
	}
	ids := map[string]bool{}
	for _, s := range c.CallSites {
		ids[s.ID] = true
	}
	total := len(ids)
	var lines []string
	for _, s := range c.CallSites[:1] {
		lines = append(lines, `{"receipt_id":"r","type":"model_call","callsite_id":"`+s.ID+`"}`)
	}
	card, _ := Builtin("coverage_contract")
	v, err := Evaluate(card.Claims, receipts(t, lines...), Env{Dir: dir}, "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	r := v.Results[0]
	if r.Expected != ">= 80% call site coverage" || r.Passed || !strings.HasSuffix(r.Actual, "(1/"+itoa(total)+")") {
		t.Errorf("one of %d covered: %+v", total, r)
	}
	// All call sites seen: passes with 100%.
	lines = nil
	for id := range ids {
		lines = append(lines, `{"receipt_id":"r","type":"model_call","callsite_id":"`+id+`"}`)
	}
	v, _ = Evaluate(card.Claims, receipts(t, lines...), Env{Dir: dir}, "p", "s")
	if r := v.Results[0]; !r.Passed || r.Actual != "100% ("+itoa(total)+"/"+itoa(total)+")" {
		t.Errorf("all covered: %+v", r)
	}
	// No contract: fails with the card's relative path, not this machine's.
	v, _ = Evaluate(card.Claims, nil, Env{Dir: t.TempDir()}, "p", "s")
	if r := v.Results[0]; r.Passed || r.Actual != "coverage contract not found: assay.coverage.json" {
		t.Errorf("missing contract: %+v", r)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestEvaluateRules(t *testing.T) {
	t.Parallel()
	rs := receipts(t, bg, bg, bg, bg, bg, bg, bg, mc1)
	cls := []Claim{
		{ClaimID: "b", Check: "no_receipt_type", Params: map[string]any{"receipt_type": "breakglass"}, Severity: Warning},
		{ClaimID: "a", Check: "no_such_check", Severity: Warning},
		{ClaimID: "c", Check: "receipt_count_ge", Params: map[string]any{"min_count": 1}, Severity: "high"},
	}
	v, err := Evaluate(cls, rs, Env{}, "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Results[0].EvidenceReceiptIDs) != 5 {
		t.Errorf("evidence not capped at 5: %v", v.Results[0].EvidenceReceiptIDs)
	}
	if r := v.Results[1]; r.Passed || r.Expected != "check function 'no_such_check' exists" || r.Actual != "unknown check function" || r.Severity != Warning {
		t.Errorf("unknown check: %+v", r)
	}
	if r := v.Results[2]; r.Passed || r.Severity != Critical {
		t.Errorf("unknown severity: %+v", r)
	}
	if v.Passed || v.NPassed != 0 || v.NFailed != 3 || v.NClaims != 3 {
		t.Errorf("verification: %+v", v)
	}
	// Warnings alone never fail the set.
	v, _ = Evaluate(cls[:2], rs, Env{}, "p", "s")
	if !v.Passed || v.NFailed != 2 {
		t.Errorf("warnings failed the set: %+v", v)
	}
	// The fingerprint sorts results by claim_id: order of claims does not matter.
	v2, _ := Evaluate([]Claim{cls[1], cls[0]}, rs, Env{}, "p", "s")
	if v.DiscrepancyFingerprint != v2.DiscrepancyFingerprint {
		t.Error("fingerprint depends on claim order")
	}
	v3, _ := Evaluate(cls[:2], rs, Env{}, "p2", "s")
	if v3.DiscrepancyFingerprint == v.DiscrepancyFingerprint {
		t.Error("fingerprint ignores policy_hash")
	}
}

func TestPyRepr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{"3.0", "'3.0'"},
		{"it's", `"it's"`},
		{`it's "x"`, `'it\'s "x"'`},
		{"a\\b\n\t\x01é☃\u2028", `'a\\b\n\t\x01é☃\u2028'`},
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{json.Number("3"), "3"},
		{json.Number("3.0"), "3.0"},
		{json.Number("1e2"), "100.0"},
		{json.Number("1E21"), "1e+21"},
		{json.Number("1E-7"), "1e-07"},
		{json.Number("0.0001"), "0.0001"},
		{json.Number("12345678901234567890"), "12345678901234567890"},
		{canon.Number("-0"), "0"},
		{0.8, "0.8"},
		{1e16, "1e+16"},
		{123456789012345.0, "123456789012345.0"},
		{[]any{"a", json.Number("1"), nil}, "['a', 1, None]"},
		{map[string]any{"b": "x", "a": []any{}}, "{'a': [], 'b': 'x'}"},
	}
	for _, tc := range tests {
		if got := pyRepr(tc.in); got != tc.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	eq := []struct {
		a, b any
		want bool
	}{
		{canon.Number("1"), json.Number("1.0"), true},
		{true, 1, true},
		{canon.Number("9007199254740993"), 9007199254740992.0, false},
		{"1", 1, false},
		{nil, nil, true},
		{[]any{canon.Number("1")}, []any{1}, true},
	}
	for _, tc := range eq {
		if got := pyEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("pyEqual(%#v, %#v) = %v", tc.a, tc.b, got)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	custom := write("custom.json", `{"card_id":"mine","name":"Mine","claims":[{"claim_id":"x","check":"receipt_count_ge","params":{"min_count":2.0},"falsifier":{"description":"ignored"}}]}`)
	c, err := Load(custom)
	if err != nil {
		t.Fatal(err)
	}
	if c.Claims[0].Severity != Critical || c.Claims[0].Falsifier != nil {
		t.Errorf("defaults: %+v", c.Claims[0])
	}
	h, _ := SetHash(c.Claims)
	// Python: float 2.0 canonicalises as 2, description defaults to "".
	want := receipt.SHA256Hex([]byte(`[{"check":"receipt_count_ge","claim_id":"x","description":"","params":{"min_count":2},"severity":"critical"}]`))
	if h != want {
		t.Errorf("custom hash %s, want %s", h, want)
	}
	v, _ := Evaluate(c.Claims, receipts(t, mc1), Env{}, "p", "s")
	if v.Results[0].Expected != ">= 2.0 receipts" {
		t.Errorf("float param text: %q", v.Results[0].Expected)
	}

	ext := write("budget.json", `{"extends":"token_budget","params":{"max_total_tokens":50}}`)
	c, err = Load(ext)
	if err != nil {
		t.Fatal(err)
	}
	if c.CardID != "token_budget" || c.Claims[0].Params["max_total_tokens"] != json.Number("50") {
		t.Errorf("extends: %+v", c)
	}
	allow := write("allow.json", `{"extends":"model_allowlist","card_id":"our_models","params":{"models":["gpt-4o"]}}`)
	c, err = Load(allow)
	if err != nil || c.CardID != "our_models" {
		t.Fatalf("extends allowlist: %v %+v", err, c)
	}
	v, _ = Evaluate(c.Claims, receipts(t, mc1, mc2), Env{}, "p", "s")
	if v.Passed {
		t.Error("allowlist card passed a swapped model")
	}

	bad := []struct{ name, body, msg string }{
		{"notjson.json", `{"card_id":`, "card file"},
		{"array.json", `[]`, "a card is a JSON object"},
		{"noid.json", `{"name":"x","claims":[]}`, `missing "card_id"`},
		{"noclaims.json", `{"card_id":"x","name":"x"}`, `missing "claims"`},
		{"empty.json", `{"card_id":"x","name":"x","claims":[]}`, `"claims" is empty`},
		{"nocheck.json", `{"card_id":"x","name":"x","claims":[{"claim_id":"a"}]}`, `claims[0]: missing "check"`},
		{"unknowncheck.json", `{"card_id":"x","name":"x","claims":[{"claim_id":"a","check":"nope"}]}`, `unknown check "nope"`},
		{"sev.json", `{"card_id":"x","name":"x","claims":[{"claim_id":"a","check":"timestamps_monotonic","severity":"high"}]}`, `severity "high"`},
		{"param.json", `{"card_id":"x","name":"x","claims":[{"claim_id":"a","check":"no_receipt_type"}]}`, "needs params.receipt_type"},
		{"models.json", `{"extends":"model_allowlist","params":{"models":"gpt-4o"}}`, "params.models must be a list"},
		{"budget.json", `{"extends":"token_budget","params":{"max_total_tokens":"lots"}}`, "max_total_tokens must be a number"},
		{"extends.json", `{"extends":"nope"}`, `"extends" must name a built-in card`},
		{"stoch.json", `{"card_id":"x","name":"x","stochastic":true,"trials":3,"claims":[{"claim_id":"a","check":"timestamps_monotonic"}]}`, "trials > 1"},
	}
	for _, tc := range bad {
		p := write(tc.name, tc.body)
		_, err := Load(p)
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v (code %d), want exit 3 containing %q", tc.name, err, exit.Code(err), tc.msg)
		}
	}
	_, err = Load("no_such_card")
	if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "unknown card \"no_such_card\"") || !strings.Contains(err.Error(), "receipt_completeness") {
		t.Errorf("unknown card: %v", err)
	}
	if _, err := LoadAll([]string{"no_breakglass", "nope"}); exit.Code(err) != exit.BadInput {
		t.Errorf("LoadAll: %v", err)
	}
}
