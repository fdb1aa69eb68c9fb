package mcpproxy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Class: every attempt leaves a receipt. Allowed, denied by policy,
// malformed, oversized, and a tools/call before initialize (refused, not
// served): each gets an mcp_tool_call receipt naming the tool that was
// requested, with its outcome; only the allowed call reaches the server.
func TestEveryAttemptLeavesAReceipt(t *testing.T) {
	t.Parallel()
	const limit = 2048
	h := startProxy(t, func(o *Options) {
		o.Policy = loadPolicy(t, "mode: enforce\ntools:\n  deny: [delete_records]\n")
		o.MaxMessage = limit
	})
	c := newLineClient(h)
	if r := c.call("early", "get_weather", map[string]any{"city": "EARLY"}); errCode(r) != -32600 || !strings.Contains(mustJSONString(r), "initialize") {
		t.Fatalf("tools/call before initialize: %v", r)
	}
	c.handshake()
	if r := c.call("allowed", "get_weather", map[string]any{"city": "Oslo"}); r["result"] == nil {
		t.Fatalf("allowed call: %v", r)
	}
	if r := c.call("denied", "delete_records", map[string]any{"table": "t", "where": "1=1"}); errCode(r) != CodeDenied {
		t.Fatalf("denied call: %v", r)
	}
	h.write([]byte(`{"jsonrpc":"2.0","id":"malformed","method":"tools/call","params":{"NAME":"check_inventory","arguments":{"sku":"MALFORMED"}}}` + "\n"))
	if r := c.await("malformed"); errCode(r) != -32602 {
		t.Fatalf("malformed call: %v", r)
	}
	h.write([]byte(`{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"echo","arguments":{"pad":"` + strings.Repeat("OVERSIZED", limit) + `"}}}` + "\n"))
	if r := c.await(nil); errCode(r) != -32600 {
		t.Fatalf("oversized call: %v", r)
	}
	h.closeClient()
	s := h.wait()

	in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	for _, w := range []string{"EARLY", "delete_records", "MALFORMED", "OVERSIZED"} {
		if bytes.Contains(in, []byte(w)) {
			t.Errorf("the server read the refused %s call", w)
		}
	}
	want := []struct{ tool, outcome, detail string }{
		{"get_weather", OutcomeDenied, "before_initialize: "},
		{"get_weather", OutcomeForwarded, ""},
		{"delete_records", OutcomeDenied, ""},
		{"check_inventory", OutcomeDenied, "malformed (case_variant): "},
		{"echo", OutcomeDenied, "oversized: "},
	}
	recs := h.receipts("mcp_tool_call")
	if len(recs) != len(want) {
		t.Fatalf("%d receipts, want %d: %s", len(recs), len(want), mustJSON(recs))
	}
	for i, w := range want {
		r := recs[i]
		if field(r, "tool_name") != w.tool || field(r, "outcome") != w.outcome || !strings.HasPrefix(field(r, "outcome_detail"), w.detail) {
			t.Errorf("receipt %d: %s; want %+v", i, mustJSON(r), w)
		}
		if h := field(r, "arguments_hash"); !strings.HasPrefix(h, "sha256:") {
			t.Errorf("receipt %d: arguments_hash %q", i, h)
		}
	}
	if field(recs[2], "policy_verdict") != "deny" {
		t.Errorf("the policy's denial: %s", mustJSON(recs[2]))
	}
	if s.ToolCalls != 5 || s.Refused != 3 || s.Outcomes[OutcomeDenied] != 4 || !s.Complete {
		t.Errorf("session: calls %d, refused %d, outcomes %v, complete %v %v", s.ToolCalls, s.Refused, s.Outcomes, s.Complete, s.Incomplete)
	}
	meta := h.receipts("session_metadata")
	if len(meta) == 0 {
		t.Fatal("no session_metadata receipt")
	}
	if v, _ := meta[len(meta)-1].Get("tool_calls"); fmt.Sprint(v) != "5" {
		t.Errorf("session_metadata tool_calls %v", v)
	}
}

// A protocol version that only sorts after 2026-07-28 is not the
// handshake-free era: the call before initialize is refused and the server
// never reads it.
func TestUnknownEraIsRefusedBeforeInitialize(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	c := newLineClient(h)
	c.send(map[string]any{"jsonrpc": "2.0", "id": "bogus", "method": "tools/call", "params": map[string]any{
		"name": "get_weather", "arguments": map[string]any{"city": "BOGUSERA"},
		"_meta": map[string]any{"io.modelcontextprotocol/protocolVersion": "9999-12-31"},
	}})
	if r := c.await("bogus"); errCode(r) != -32600 || !strings.Contains(mustJSONString(r), "initialize") {
		t.Fatalf("tools/call with an unknown era before initialize: %v", r)
	}
	h.closeClient()
	h.wait()
	in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	if bytes.Contains(in, []byte("BOGUSERA")) {
		t.Fatal("the server read the refused call")
	}
	if recs := h.receipts("mcp_tool_call"); len(recs) != 1 || !strings.HasPrefix(field(recs[0], "outcome_detail"), "before_initialize: ") {
		t.Fatalf("receipts %s", mustJSON(recs))
	}
}
