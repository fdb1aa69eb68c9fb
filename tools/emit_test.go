package tools

import (
	"encoding/json"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

func TestEmitReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var first EmitResult
	e.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"verdict": "allow", "n": 12345678901234567}}, &first)
	if first.TraceID != e.srv.TraceID() || first.Type != "decision_v1" || len(first.ReceiptID) != len("r_")+12 {
		t.Fatalf("result %+v", first)
	}
	var second EmitResult
	e.ok("emit-receipt", map[string]any{"type": "acme.tool_call", "parent_receipt_id": first.ReceiptID}, &second)

	recs := e.trace()
	// emit, its mcp_tool_call, emit, its mcp_tool_call
	if len(recs) != 4 {
		t.Fatalf("trace has %d receipts, want 4", len(recs))
	}
	r := recs[0]
	if r.String("receipt_id") != first.ReceiptID || r.String("verdict") != "allow" {
		t.Fatalf("first receipt %s", mustJSON(r))
	}
	if n, _ := r.Get("n"); n != canon.Number("12345678901234567") {
		t.Fatalf("big integer not kept exactly: %v", n)
	}
	if recs[2].String("parent_receipt_id") != first.ReceiptID {
		t.Fatalf("parent not recorded: %s", mustJSON(recs[2]))
	}
}

func TestEmitReceiptErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cases := []struct {
		name string
		args map[string]any
		want string
	}{
		{"type not allowed", map[string]any{"type": "bogus"}, "cannot go into a proof pack"},
		{"server-only type", map[string]any{"type": "mcp_tool_call"}, "written by assay itself"},
		{"reserved key", map[string]any{"type": "decision_v1", "data": map[string]any{"schema_version": "x"}}, `"schema_version" is reserved`},
		{"empty receipt_id", map[string]any{"type": "decision_v1", "data": map[string]any{"receipt_id": ""}}, "receipt_id must be a non-empty string"},
		{"bad timestamp", map[string]any{"type": "decision_v1", "data": map[string]any{"timestamp": "2026-13-01T00:00:00Z"}}, "is not a valid time"},
		{"store stamp", map[string]any{"type": "decision_v1", "data": map[string]any{"_trace_id": "x"}}, "set by the store"},
		{"underscore key", map[string]any{"type": "decision_v1", "data": map[string]any{"_mine": "x"}}, "reserved"},
		{"non-ascii key", map[string]any{"type": "decision_v1", "data": map[string]any{"clé": 1}}, "not ASCII"},
		{"missing type", map[string]any{"data": map[string]any{}}, "type (required)"},
		{"unknown argument", map[string]any{"type": "decision_v1", "colour": "red"}, "valid arguments"},
		{"wrong type", map[string]any{"type": 7}, "invalid arguments for emit-receipt"},
		{"data not object", map[string]any{"type": "decision_v1", "data": []int{1}}, "invalid arguments"},
		{"key-shaped value", map[string]any{"type": "decision_v1", "data": map[string]any{"cfg": map[string]any{"auth": []any{"ok", "Bearer abcdefghijklmnop"}}}}, `"cfg.auth[1]" looks like an API key`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { e.fails("emit-receipt", c.args, c.want) })
	}
	// Failed calls are recorded too, as errors, and emit nothing else.
	recs := e.trace()
	if len(recs) != len(cases) {
		t.Fatalf("trace has %d receipts, want %d mcp_tool_call receipts", len(recs), len(cases))
	}
	for _, r := range recs {
		if r.String("type") != "mcp_tool_call" || r.String("outcome") != "error" {
			t.Fatalf("unexpected receipt %s", mustJSON(r))
		}
		if v, _ := r.Get("result_is_error"); v != true {
			t.Fatalf("result_is_error not true: %s", mustJSON(r))
		}
	}
}

func mustJSON(v any) string {
	b, err := canon.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(v)
	}
	return string(b)
}
