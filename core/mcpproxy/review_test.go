package mcpproxy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A server that stops reading its stdin (hung, not dead) fills the pipe: the
// client's next large message blocks in Send. An interrupt must still end
// the session: closing the server's input must not wait behind that Send.
func TestInterruptWhileSendBlocked(t *testing.T) {
	h := startProxyArgv(t, []string{"sleep", "30"}, func(o *Options) { o.Grace = 300 * time.Millisecond })
	// More than a pipe buffer (64 KiB) in one tools/call.
	big, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": "write", "arguments": map[string]any{"text": strings.Repeat("x", 1<<20)}}})
	go func() { _, _ = h.toProxy.Write(append(big, '\n')) }()
	time.Sleep(300 * time.Millisecond) // the proxy is now stuck writing to the server
	h.cancel()
	s := h.wait()
	if s.Complete {
		t.Errorf("an interrupted session with an unanswered call is complete")
	}
	if s.ToolCalls != 1 || s.Outcomes[OutcomeError] != 1 {
		t.Errorf("tool calls %d, outcomes %v; want the call recorded as an error", s.ToolCalls, s.Outcomes)
	}
}

// JSON keys are case-sensitive (Python and TypeScript servers read "name",
// never "Name"), but encoding/json matches struct fields case-insensitively,
// last key winning. A client that adds a differently cased key must not get
// a call past an enforcing policy, or out of the receipts, by it.
func TestEnforceKeysAreCaseSensitive(t *testing.T) {
	pol := loadPolicy(t, `
mode: enforce
tools:
  deny: ["crash"]
`)
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	for _, tc := range []struct{ id, body string }{
		// The proxy read "Name" (echo); a case-sensitive server runs crash.
		{"n", `{"jsonrpc":"2.0","id":"n","method":"tools/call","params":{"name":"crash","Name":"echo","arguments":{"code":3}}}`},
		// The proxy read "Method" (ping): no tools/call at all.
		{"m", `{"jsonrpc":"2.0","id":"m","method":"tools/call","Method":"ping","params":{"name":"crash","arguments":{"code":3}}}`},
	} {
		h.write([]byte(tc.body + "\n"))
		if r := c.await(tc.id); errCode(r) != CodeDenied {
			t.Errorf("%s: answered %v, want the policy's denial", tc.body, r)
		}
	}
	h.closeClient()
	s := h.wait()
	if s.Outcomes[OutcomeDenied] != 2 {
		t.Errorf("outcomes %v, want 2 denied", s.Outcomes)
	}
}
