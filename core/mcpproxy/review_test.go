package mcpproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// A server that stops reading its stdin (hung, not dead) fills the pipe: the
// client's next large message blocks in Send. An interrupt must still end
// the session: closing the server's input must not wait behind that Send.
func TestInterruptWhileSendBlocked(t *testing.T) {
	t.Parallel()
	h := startProxyArgv(t, []string{"sleep", "30"}, func(o *Options) { o.Grace = 300 * time.Millisecond })
	// More than a pipe buffer (64 KiB) in one tools/call.
	big, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": "write", "arguments": map[string]any{"text": strings.Repeat("x", 1<<20)}}})
	h.write([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n"))
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
// last key winning. A message carrying members that differ only in case is
// refused (core/jsonrpc), never forwarded, and receipted under every tool
// name it spells.
func TestEnforceKeysAreCaseSensitive(t *testing.T) {
	t.Parallel()
	pol := loadPolicy(t, `
mode: enforce
tools:
  deny: ["crash"]
`)
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	for _, tc := range []struct{ id, body string }{
		{"n", `{"jsonrpc":"2.0","id":"n","method":"tools/call","params":{"name":"crash","Name":"echo","arguments":{"code":3}}}`},
		{"m", `{"jsonrpc":"2.0","id":"m","method":"tools/call","Method":"ping","params":{"name":"crash","arguments":{"code":3}}}`},
	} {
		h.write([]byte(tc.body + "\n"))
		if r := c.await(tc.id); errCode(r) != -32600 {
			t.Errorf("%s: answered %v, want an invalid-request error", tc.body, r)
		}
	}
	h.closeClient()
	s := h.wait()
	if in, _ := os.ReadFile(filepath.Join(h.dir, "server_in")); bytes.Contains(in, []byte("crash")) {
		t.Errorf("the server read %q", in)
	}
	// "n" is recorded under echo (what encoding/json reads) and names crash;
	// "m" has no tools/call for a lenient reader (its last method is ping).
	recs := h.receipts("mcp_tool_call")
	if s.Outcomes[OutcomeDenied] != 1 || len(recs) != 1 || field(recs[0], "tool_name") != "echo" || !strings.Contains(field(recs[0], "outcome_detail"), `"crash"`) {
		t.Errorf("outcomes %v, receipts %d %s", s.Outcomes, len(recs), mustJSON(recs))
	}
}

// Tool calls that arrive while the session closes (the server has ended,
// the client is still sending) are either recorded or refused, never
// admitted after the open calls were abandoned: such a call was recorded
// after the recorder stopped ("EVIDENCE LOST") or never resolved.
func TestCallsWhileTheSessionCloses(t *testing.T) {
	t.Parallel()
	for i := 0; i < 24; i++ {
		var logs lockedBuffer
		lg := zerolog.New(&logs)
		h := startProxyArgv(t, []string{"sleep", "0.1"}, func(o *Options) { o.Logger = &lg })
		go func() { _, _ = io.Copy(io.Discard, h.fromProxy) }()
		stop := make(chan struct{})
		flooded := make(chan struct{})
		go func() {
			defer close(flooded)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := h.toProxy.Write([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"x"}}`+"\n", n))); err != nil {
					return
				}
				time.Sleep(20 * time.Microsecond)
			}
		}()
		s := h.wait()
		time.Sleep(20 * time.Millisecond) // calls after Run returned are refused, not counted
		close(stop)
		<-flooded
		if strings.Contains(logs.String(), "EVIDENCE LOST") || s.EvidenceLost > 0 {
			t.Fatalf("session %d: a call admitted while the session closed was lost: %s", i, logs.String())
		}
		if got := len(h.receipts("mcp_tool_call")); got != s.ToolCalls {
			t.Fatalf("session %d: %d tool calls counted, %d recorded", i, s.ToolCalls, got)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Argument patterns see the arguments' decoded text. Arguments that are not
// canonical JSON (a lone surrogate, which Python, TypeScript and Go servers
// accept) were matched as sent, so a \u escape hid a denied word.
func TestEnforceArgumentPatternsSeeThroughEscapes(t *testing.T) {
	t.Parallel()
	pol := loadPolicy(t, `
mode: enforce
tools:
  constraints:
    echo:
      deny_patterns: ["action.*delete"]
`)
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	for i, args := range []string{
		`{"action":"\u0064elete"}`,
		`{"action":"\u0064elete","pad":"\ud800"}`,
	} {
		h.write([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":%s}}`+"\n", i+1, args)))
		if r := c.await(i + 1); errCode(r) != CodeDenied {
			t.Errorf("%s: answered %v, want the policy's denial", args, r)
		}
	}
	h.closeClient()
	if s := h.wait(); s.Outcomes[OutcomeDenied] != 2 {
		t.Errorf("outcomes %v, want 2 denied", s.Outcomes)
	}
}

// The same stuck server, but the client just closes its input (no signal):
// the proxy still sees the end of input (reading the client does not wait
// for the server to read), waits the grace, terminates the server and ends.
func TestClientCloseWhileSendBlocked(t *testing.T) {
	t.Parallel()
	h := startProxyArgv(t, []string{"sleep", "30"}, func(o *Options) { o.Grace = 300 * time.Millisecond })
	big, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": "write", "arguments": map[string]any{"text": strings.Repeat("x", 1<<20)}}})
	h.write([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n"))
	h.write(append(big, '\n'))
	h.closeClient()
	start := time.Now()
	s := h.wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the proxy took %s to end after the client closed", d)
	}
	if s.Complete || s.ToolCalls != 1 || s.Outcomes[OutcomeError] != 1 || !s.ServerExit.Killed {
		t.Errorf("session: complete %v, calls %d, outcomes %v, exit %+v", s.Complete, s.ToolCalls, s.Outcomes, s.ServerExit)
	}
}
