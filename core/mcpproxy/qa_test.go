package mcpproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/receipt"
)

// startProxyArgv is startProxy with another server command, whose
// environment still makes the fixture serve when it is run.
func startProxyArgv(t *testing.T, argv []string, mod func(*Options)) *harness {
	t.Helper()
	return startProxyCmd(t, argv, "1", mod)
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
	t.Parallel()
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
			// A terminated server's detail says how long it really had
			// since its input closed (it said "10ms" after seconds).
			if s.ServerExit.Killed {
				m := regexp.MustCompile(`within (\S+) after`).FindStringSubmatch(s.ServerExit.Detail)
				if m == nil {
					t.Fatalf("server exit detail %q", s.ServerExit.Detail)
				}
				if d, err := time.ParseDuration(m[1]); err != nil || d < 250*time.Millisecond {
					t.Errorf("server exit detail %q: want the time since its input closed (>= 250ms)", s.ServerExit.Detail)
				}
			}
		})
	}
}

// A Content-Length client in front of an MCP stdio server (one message per
// line): each message reaches the server as one line, multi-line bodies
// compacted, and the server's answers reach the client Content-Length
// framed. Regression: the proxy forwarded the client's framing unchanged,
// the server answered every message with a parse error, and the client
// got newline-delimited errors it could not read.
func TestQAContentLengthClientBridged(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	var got []Message
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := NewReader(h.fromProxy)
		for {
			m, err := r.Next()
			if err != nil {
				return
			}
			got = append(got, m)
		}
	}()
	msgs := []string{
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"cl","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		"{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"method\": \"tools/call\",\n  \"params\": {\"name\": \"echo\", \"arguments\": {\"text\": \"two\\nlines\"}}\n}",
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}`,
	}
	for _, m := range msgs {
		h.write(Frame([]byte(m), ContentLength))
	}
	time.Sleep(300 * time.Millisecond)
	h.closeClient()
	s := h.wait()
	<-done
	if !s.Complete || s.Outcomes[OutcomeForwarded] != 2 {
		t.Fatalf("session complete %v %v outcomes %v", s.Complete, s.Incomplete, s.Outcomes)
	}
	ids := map[string]bool{}
	for _, m := range got {
		if m.Framing != ContentLength {
			t.Errorf("the client got a %s message: %q", m.Framing, m.Raw)
		}
		var e struct {
			ID    json.RawMessage `json:"id"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(m.Body, &e); err != nil || len(e.Error) > 0 {
			t.Errorf("the client got %q", m.Body)
		}
		ids[string(e.ID)] = true
	}
	if !ids["0"] || !ids["1"] || !ids["2"] {
		t.Errorf("answers to ids %v, want 0, 1, 2", ids)
	}
	in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	lines := strings.Split(strings.TrimSuffix(string(in), "\n"), "\n")
	if len(lines) != len(msgs) {
		t.Fatalf("the server read %d lines, want %d: %q", len(lines), len(msgs), in)
	}
	for i, l := range lines {
		var want bytes.Buffer
		_ = json.Compact(&want, []byte(msgs[i]))
		if l != want.String() {
			t.Errorf("server line %d = %q, want %q", i, l, want.String())
		}
	}
	if n := len(h.receipts("mcp_tool_call")); n != 2 {
		t.Errorf("%d receipts, want 2", n)
	}
}

func TestQAReframe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      Message
		to      Framing
		wantRaw string
	}{
		{"same framing: bytes unchanged", Message{Raw: []byte("{ \"a\" : 1 }\r\n"), Body: []byte(`{ "a" : 1 }`), Framing: NDJSON}, NDJSON, "{ \"a\" : 1 }\r\n"},
		{"content-length to line", Message{Raw: Frame([]byte(`{"a":1}`), ContentLength), Body: []byte(`{"a":1}`), Framing: ContentLength}, NDJSON, "{\"a\":1}\n"},
		{"multi-line body compacted", Message{Raw: []byte("x"), Body: []byte("{\n \"a\": \"b\\nc\"\n}"), Framing: ContentLength}, NDJSON, "{\"a\":\"b\\nc\"}\n"},
		{"line to content-length", Message{Raw: []byte("{\"a\":1}\n"), Body: []byte(`{"a":1}`), Framing: NDJSON}, ContentLength, "Content-Length: 7\r\n\r\n{\"a\":1}"},
		{"unframed (HTTP) body", Message{Body: []byte(`{"a":1}`)}, NDJSON, "{\"a\":1}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := reframe(tc.in, tc.to)
			if string(got.Raw) != tc.wantRaw || got.Framing != tc.to {
				t.Errorf("reframe = %q (%s), want %q", got.Raw, got.Framing, tc.wantRaw)
			}
		})
	}
}

// notifications/cancelled: a call the server answers anyway is recorded
// with its real result (the answer reaches the client, so its hash must be
// in the evidence); one it never answers is recorded as cancelled without
// making the session incomplete and without an answer the client does not
// expect. Regression: the first was recorded as an error with no result
// hash although its result was delivered.
func TestQAClientCancelled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		tool       string
		args       map[string]any
		outcome    string
		detail     string
		wantResult bool
	}{
		{"server answers anyway", "slow", map[string]any{"ms": 150}, OutcomeForwarded, "answered anyway", true},
		{"server never answers", "hang", map[string]any{}, OutcomeError, "cancelled by the client", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startProxyArgv(t, fixtureArgv(), func(o *Options) { o.Grace = 300 * time.Millisecond; o.CallTimeout = 200 * time.Millisecond })
			c := newLineClient(h)
			c.handshake()
			c.send(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": map[string]any{"name": tc.tool, "arguments": tc.args}})
			c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{"requestId": 7, "reason": "user"}})
			if r := c.call(8, "echo", map[string]any{"a": 1}); r["result"] == nil {
				t.Fatalf("echo after the cancel: %v", r)
			}
			time.Sleep(400 * time.Millisecond) // past slow's answer and the call timeout
			h.closeClient()
			s := h.wait()
			var r7 map[string]any
			for b := range c.msgs {
				var m map[string]any
				if json.Unmarshal(b, &m) == nil && fmt.Sprint(m["id"]) == "7" {
					r7 = m
				}
			}
			if tc.wantResult != (r7 != nil && r7["result"] != nil) || (r7 != nil && r7["error"] != nil) {
				t.Errorf("the client got %v for the cancelled call", r7)
			}
			rec := byTool(h.receipts("mcp_tool_call"))[tc.tool]
			if rec == nil {
				t.Fatal("no receipt for the cancelled call")
			}
			if field(rec, "outcome") != tc.outcome || !strings.Contains(field(rec, "outcome_detail"), tc.detail) {
				t.Errorf("receipt outcome %q detail %q", field(rec, "outcome"), field(rec, "outcome_detail"))
			}
			if tc.wantResult {
				var body []byte
				for _, m := range []map[string]any{r7} {
					body, _ = json.Marshal(m["result"])
				}
				v, _ := canon.Decode(body)
				want, _ := receipt.HashValue(v)
				if field(rec, "result_hash") != want {
					t.Errorf("result_hash %q, want the delivered result's %q", field(rec, "result_hash"), want)
				}
			}
			if tc.name == "server never answers" {
				// The hung call keeps the fixture from exiting: it is
				// terminated, which (a call unanswered) is incomplete.
				return
			}
			if !s.Complete {
				t.Errorf("session incomplete: %v", s.Incomplete)
			}
		})
	}
}

// Whitespace-only lines are not messages: the proxy passes them in neither
// direction (clients that parse every line failed on the server's blank
// lines; servers answer a client's blank line with a parse error).
func TestQABlankLinesDropped(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	c := newLineClient(h)
	c.handshake()
	h.write([]byte("\n   \r\n\t\n"))
	if r := c.call(1, "garbage", map[string]any{"text": "   "}); r["result"] == nil {
		t.Fatalf("garbage call: %v", r)
	}
	h.write([]byte("\n"))
	if r := c.call(2, "echo", map[string]any{"a": 1}); r["result"] == nil {
		t.Fatalf("echo: %v", r)
	}
	h.closeClient()
	s := h.wait()
	if !s.Complete || s.GarbageMessages != 0 {
		t.Errorf("session complete %v %v, garbage %d", s.Complete, s.Incomplete, s.GarbageMessages)
	}
	c.mu.Lock()
	raw := c.raw.String()
	c.mu.Unlock()
	for _, l := range strings.SplitAfter(raw, "\n") {
		if l != "" && strings.TrimSpace(l) == "" {
			t.Errorf("the client got a blank line: %q", raw)
			break
		}
	}
	in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	for _, l := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			t.Errorf("the server got a blank line: %q", in)
			break
		}
	}
}

// The outcome follows the result's top-level isError only (read from the
// decoded result, not a second JSON pass): an isError nested in content is
// data.
func TestQAIsErrorOutcome(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	c := newLineClient(h)
	c.handshake()
	cases := []struct {
		id      int
		tool    string
		args    map[string]any
		outcome string
	}{
		{1, "fail", map[string]any{"message": "boom"}, OutcomeError},
		{2, "echo", map[string]any{"isError": true}, OutcomeForwarded},
		{3, "echo", map[string]any{"isError": false}, OutcomeForwarded},
		{4, "no_such_tool", map[string]any{}, OutcomeError},
	}
	for _, tc := range cases {
		c.call(tc.id, tc.tool, tc.args)
	}
	h.closeClient()
	h.wait()
	got := map[string]string{}
	for _, r := range h.receipts("mcp_tool_call") {
		v, _ := r.Get("mcp_request_id")
		got[fmt.Sprint(v)] = field(r, "outcome")
	}
	for _, tc := range cases {
		if o := got[fmt.Sprint(tc.id)]; o != tc.outcome {
			t.Errorf("call %d (%s %v): outcome %q, want %q", tc.id, tc.tool, tc.args, o, tc.outcome)
		}
	}
}

// A server that crashes while a process it started holds its stdout open:
// the session ends when the server process exits, not when the client
// gives up. Regression: the crashed call hung until the client closed.
func TestQAServerExitWithOutputHeldOpen(t *testing.T) {
	t.Parallel()
	argv := []string{"/bin/sh", "-c", `sleep 30 & exec "$0" -test.run='^$'`, os.Args[0]}
	h := startProxyArgv(t, argv, nil)
	c := newLineClient(h)
	c.handshake()
	start := time.Now()
	r := c.call(1, "crash", map[string]any{"code": 5})
	if errCode(r) != CodeServerGone {
		t.Fatalf("the crashed call got %v, want a %d error", r, CodeServerGone)
	}
	s := h.wait()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the session ended %s after the crash", d)
	}
	if s.Complete || s.ServerExit.Code != 5 {
		t.Errorf("complete %v, server exit %+v", s.Complete, s.ServerExit)
	}
	if recs := h.receipts("mcp_tool_call"); len(recs) != 1 || field(recs[0], "outcome") != OutcomeError {
		t.Errorf("receipts %d", len(recs))
	}
}

// A tools/call without an id (or with a null id) cannot be answered, so
// it cannot be checked and receipted as a call: it is refused in every
// mode (a server that ran it would bypass the policy and the receipts),
// with a receipt of the refusal naming its tool; so is a batch.
func TestQAIdlessToolCall(t *testing.T) {
	t.Parallel()
	enforce := loadPolicy(t, "mode: enforce\ntools:\n  deny: [\"delete_*\"]\n")
	audit := loadPolicy(t, "mode: audit\ntools:\n  deny: [\"delete_*\"]\n")
	cases := []struct {
		name string
		pol  *mcppolicy.Policy
	}{
		{"enforce", enforce},
		{"audit", audit},
		{"no policy", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startProxy(t, func(o *Options) { o.Policy = tc.pol })
			c := newLineClient(h)
			c.handshake()
			h.write([]byte(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_weather","arguments":{"city":"NOID"}}}` + "\n"))
			h.write([]byte(`{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"NULLID"}}}` + "\n"))
			h.write([]byte(`[{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_weather","arguments":{"city":"BATCHNOID"}}},{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}]` + "\n"))
			c.call(6, "echo", map[string]any{})
			h.closeClient()
			s := h.wait()
			in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
			for _, city := range []string{"NOID", "NULLID", "BATCHNOID", "Oslo"} {
				if bytes.Contains(in, []byte(city)) {
					t.Errorf("%s reached the server", city)
				}
			}
			recs := h.receipts("mcp_tool_call")
			if s.ToolCalls != 5 || len(recs) != 5 || s.Outcomes[OutcomeDenied] != 4 || s.Outcomes[OutcomeForwarded] != 1 {
				t.Errorf("tool calls %d, receipts %d, outcomes %v; want 4 refusals and call 6", s.ToolCalls, len(recs), s.Outcomes)
			}
			for _, r := range recs {
				if tool := field(r, "tool_name"); tool != "get_weather" && tool != "echo" {
					t.Errorf("receipt names tool %q", tool)
				}
			}
		})
	}
}
