package mcpproxy

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/store"
)

// A server that stops reading its stdin (hung, not dead) fills the pipe: the
// client's next large message blocks in Send. An interrupt must still end
// the session: closing the server's input must not wait behind that Send.
func TestInterruptWhileSendBlocked(t *testing.T) {
	up, err := StartStdio(StdioOptions{Argv: []string{"sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	cr, cw, _ := os.Pipe()
	pr, pw, _ := os.Pipe()
	defer cw.Close()
	defer pr.Close()
	st := store.Open(t.TempDir())
	sid := NewSessionID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *Session, 1)
	go func() {
		s, err := Run(ctx, Options{Upstream: up, Client: cr, ClientOut: pw, Store: st, TraceID: NewTraceID(sid, time.Now()), SessionID: sid, Grace: 300 * time.Millisecond})
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		pw.Close()
		done <- s
	}()
	// More than a pipe buffer (64 KiB) in one tools/call.
	big, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": "write", "arguments": map[string]any{"text": strings.Repeat("x", 1<<20)}}})
	go func() { _, _ = cw.Write(append(big, '\n')) }()
	time.Sleep(300 * time.Millisecond) // the proxy is now stuck writing to the server
	cancel()
	select {
	case s := <-done:
		if s.Complete {
			t.Errorf("an interrupted session with an unanswered call is complete")
		}
		if s.ToolCalls != 1 || s.Outcomes[OutcomeError] != 1 {
			t.Errorf("tool calls %d, outcomes %v; want the call recorded as an error", s.ToolCalls, s.Outcomes)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy hung: an interrupt did not end a session whose server stopped reading")
	}
}
