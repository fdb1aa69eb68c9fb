package explain

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// A notary-proxy pack is explained per session: calls by outcome, the
// denied tools, and whether the signed session_metadata says complete.
func TestExplainMCPSession(t *testing.T) {
	t.Parallel()
	const trace = "mcp_mcp_0123456789abcdef_1795640000"
	mk := func(id string, seq int, fields map[string]any) *receipt.Receipt {
		r := &receipt.Receipt{}
		r.Set("receipt_id", id)
		r.Set("timestamp", "2026-11-25T10:00:0"+string(rune('0'+seq))+".000000+00:00")
		r.Set("seq", seq)
		r.Set("_trace_id", trace)
		for k, v := range fields {
			r.Set(k, v)
		}
		return r
	}
	call := func(id string, seq int, tool, outcome, reason string) *receipt.Receipt {
		return mk(id, seq, map[string]any{"type": "mcp_tool_call", "session_id": "mcp_0123456789abcdef", "server_id": "files",
			"integration_source": "assay.mcp_proxy", "tool_name": tool, "outcome": outcome, "policy_reason": reason})
	}
	recs := []*receipt.Receipt{
		call("mtc_1", 0, "read_file", "forwarded", ""),
		call("mtc_2", 1, "delete_file", "denied", "deny_list"),
		call("mtc_3", 2, "slow_tool", "timeout", ""),
		mk("smd_1", 3, map[string]any{"type": "session_metadata", "session_id": "mcp_0123456789abcdef", "server_id": "files",
			"integration_source": "assay.mcp_proxy", "session_complete": false,
			"incomplete_reasons": []any{"a tool call got no response within --call-timeout"}}),
	}
	for _, r := range recs {
		// canonical values, as a store read gives them
		b, _ := canon.Marshal(r)
		v, _ := canon.Decode(b)
		*r = *(*receipt.Receipt)(v.(*canon.Object))
	}
	dir := filepath.Join(t.TempDir(), "pack")
	if _, err := pack.Build(pack.Options{RunID: trace, Receipts: recs, Signer: demo.EphemeralSigner("t"), OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	e, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.MCPSessions) != 1 {
		t.Fatalf("sessions: %+v", e.MCPSessions)
	}
	s := e.MCPSessions[0]
	if s.ToolCalls != 3 || s.Outcomes["denied"] != 1 || s.Outcomes["timeout"] != 1 || s.Complete == nil || *s.Complete || len(s.Denied) != 1 || s.Denied[0] != "delete_file (deny_list)" {
		t.Fatalf("session: %+v", s)
	}
	text := e.Text(false)
	for _, want := range []string{"MCP proxy session mcp_0123456789abcdef, server files: 3 tool calls", "Denied by policy: delete_file (deny_list).", "INCOMPLETE session: a tool call got no response within --call-timeout."} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if md := e.Text(true); strings.Count(md, "# Proof pack") != 1 {
		t.Errorf("markdown title repeated:\n%s", md)
	}
}
