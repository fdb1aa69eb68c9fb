package claims

import "testing"

// The mcp_session_complete card fails a pack holding an MCP session that
// never closed (a SIGKILLed proxy leaves only the opening receipt) or
// closed incomplete.
func TestMCPSessionCard(t *testing.T) {
	t.Parallel()
	const open = `{"receipt_id":"r_open","type":"session_metadata","session_id":"mcp_a","session_state":"open","session_complete":false,"timestamp":"2026-01-01T00:00:00Z"}`
	closed := func(id string, complete bool) string {
		c := "false"
		if complete {
			c = "true"
		}
		return `{"receipt_id":"` + id + `","type":"session_metadata","session_id":"mcp_a","session_state":"closed","session_complete":` + c + `,"timestamp":"2026-01-01T00:00:01Z"}`
	}
	const call = `{"receipt_id":"r_call","type":"mcp_tool_call","session_id":"mcp_a","timestamp":"2026-01-01T00:00:00Z"}`
	const reference = `{"receipt_id":"r_ref","type":"session_metadata","session_id":"mcp_b","session_complete":true,"timestamp":"2026-01-01T00:00:00Z"}`
	cases := []struct {
		name   string
		lines  []string
		passed bool
	}{
		{"killed: opening receipt only", []string{open, call}, false},
		{"closed complete", []string{open, call, closed("r_close", true)}, true},
		{"closed incomplete", []string{open, call, closed("r_close", false)}, false},
		{"closing receipt first in the file", []string{closed("r_close", true), open}, true},
		{"the reference's one receipt", []string{reference}, true},
		{"no sessions", []string{call}, true},
	}
	card, ok := Builtin(MCPSessionCard)
	if !ok {
		t.Fatal("no built-in mcp_session_complete card")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := checks[card.Claims[0].Check](card.Claims[0].Params, receipts(t, tc.lines...), Env{})
			if r.Passed != tc.passed {
				t.Errorf("passed %v (%s), want %v", r.Passed, r.Actual, tc.passed)
			}
			if !r.Passed && len(r.EvidenceReceiptIDs) == 0 {
				t.Error("a failure without evidence")
			}
		})
	}
}
