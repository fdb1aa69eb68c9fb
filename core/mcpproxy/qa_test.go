package mcpproxy

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/store"
)

// startProxyArgv is startProxy with another server command, whose
// environment still makes the fixture serve when it is run.
func startProxyArgv(t *testing.T, argv []string, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), done: make(chan *Session, 1)}
	h.st = store.Open(t.TempDir())
	sid := NewSessionID()
	h.traceID = NewTraceID(sid, time.Now())
	env := append(os.Environ(), envFixture+"=1", envTranscript+"="+h.dir, store.EnvTrace+"="+h.traceID, store.EnvHome+"="+h.st.Home)
	up, err := StartStdio(StdioOptions{Argv: argv, Env: env, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	cr, cw, _ := os.Pipe()
	pr, pw, _ := os.Pipe()
	h.toProxy, h.fromProxy = cw, pr
	o := Options{Upstream: up, Client: cr, ClientOut: pw, Store: h.st, TraceID: h.traceID, SessionID: sid, ServerID: "fixture", Grace: 2 * time.Second}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	t.Cleanup(cancel)
	go func() {
		s, err := Run(ctx, o)
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		pw.Close()
		cr.Close()
		h.done <- s
	}()
	t.Cleanup(func() {
		cw.Close()
		pr.Close()
	})
	return h
}

// lingeringArgv is the fixture server behind a shell that does not exit
// when the fixture does (on stdin EOF): a server that ignores the end of
// its input, as Node servers with live timers do.
func lingeringArgv() []string {
	return []string{"/bin/sh", "-c", `"$0" -test.run='^$'; exec sleep 30`, os.Args[0]}
}

// MCP clients (the TypeScript SDK, so the MCP Inspector) close the
// server's stdin and signal it at once. A session whose calls were all
// answered stays complete however the client ends it; one that is
// interrupted while the client is still talking, or with a call in flight,
// is not. Regression: every Inspector session through the proxy was
// marked incomplete (exit 1) because the server got 10 ms to exit.
func TestQAClientCloseAndSignal(t *testing.T) {
	cases := []struct {
		name     string
		argv     []string
		drive    func(h *harness, c *lineClient)
		complete bool
		reason   string // part of an incomplete reason
	}{
		{
			name:     "close then signal, server exits on EOF",
			argv:     fixtureArgv(),
			drive:    func(h *harness, c *lineClient) { h.closeClient(); h.cancel() },
			complete: true,
		},
		{
			name: "signal then close at once, server exits on EOF",
			argv: fixtureArgv(),
			drive: func(h *harness, c *lineClient) {
				h.cancel()
				time.Sleep(10 * time.Millisecond)
				h.closeClient()
			},
			complete: true,
		},
		{
			name:     "close then signal, server lingers after EOF",
			argv:     lingeringArgv(),
			drive:    func(h *harness, c *lineClient) { h.closeClient(); h.cancel() },
			complete: true,
		},
		{
			name:     "client closes, server lingers past the grace",
			argv:     lingeringArgv(),
			drive:    func(h *harness, c *lineClient) { h.closeClient() },
			complete: true,
		},
		{
			name:   "signal while the client is still connected",
			argv:   fixtureArgv(),
			drive:  func(h *harness, c *lineClient) { h.cancel() },
			reason: "interrupted",
		},
		{
			name: "signal just after a notification, client connected",
			argv: fixtureArgv(),
			drive: func(h *harness, c *lineClient) {
				c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})
				h.cancel()
			},
			reason: "interrupted",
		},
		{
			name: "close and signal with a call in flight",
			argv: lingeringArgv(),
			drive: func(h *harness, c *lineClient) {
				c.send(map[string]any{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": map[string]any{"name": "slow", "arguments": map[string]any{"ms": 5000}}})
				time.Sleep(100 * time.Millisecond)
				h.closeClient()
				h.cancel()
			},
			reason: "got no response",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startProxyArgv(t, tc.argv, func(o *Options) { o.Grace = 300 * time.Millisecond })
			c := newLineClient(h)
			c.handshake()
			if r := c.call(1, "echo", map[string]any{"q": 1}); r["result"] == nil {
				t.Fatalf("echo: %v", r)
			}
			start := time.Now()
			tc.drive(h, c)
			s := h.wait()
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("the session took %s to end", d)
			}
			if s.Complete != tc.complete {
				t.Fatalf("complete %v, want %v (%v; server %+v)", s.Complete, tc.complete, s.Incomplete, s.ServerExit)
			}
			if !tc.complete && !strings.Contains(strings.Join(s.Incomplete, "; "), tc.reason) {
				t.Errorf("incomplete reasons %q lack %q", s.Incomplete, tc.reason)
			}
			if n := len(h.receipts("mcp_tool_call")); n != s.ToolCalls {
				t.Errorf("%d receipts for %d tool calls", n, s.ToolCalls)
			}
		})
	}
}
