package mcpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/jsonrpc"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// clientWriter is the mcp-go client's output: into the proxy, with a copy
// of every byte for the transcript.
type clientWriter struct{ h *harness }

func (w clientWriter) Write(p []byte) (int, error) {
	w.h.sentMu.Lock()
	w.h.sent.Write(p)
	w.h.sentMu.Unlock()
	return w.h.toProxy.Write(p)
}
func (w clientWriter) Close() error { return w.h.toProxy.Close() }

// A real client (mcp-go) and a real server: every byte crosses the proxy
// unchanged both ways, each call gets one receipt, and the pack verifies.
// realClient connects mcp-go's client to the harness's proxy and
// initialises the session; received returns every byte it read.
func realClient(t *testing.T, h *harness) (*client.Client, context.Context, func() []byte) {
	t.Helper()
	var recv bytes.Buffer
	var recvMu sync.Mutex
	in := io.TeeReader(h.fromProxy, lockedWriter{&recvMu, &recv})
	cli := client.NewClient(transport.NewIO(in, clientWriter{h}, io.NopCloser(strings.NewReader(""))))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	if err := cli.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "proxy-test", Version: "1"}
	if _, err := cli.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return cli, ctx, func() []byte {
		recvMu.Lock()
		defer recvMu.Unlock()
		return append([]byte(nil), recv.Bytes()...)
	}
}

// sameBytesBothWays checks that each end read, line for line, exactly
// the re-encoding (core/jsonrpc) of what the other end wrote: the proxy
// forwards what it checked, and nothing else.
func sameBytesBothWays(t *testing.T, h *harness, clientRead []byte) {
	t.Helper()
	serverIn, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	serverOut, _ := os.ReadFile(filepath.Join(h.dir, "server_out"))
	h.sentMu.Lock()
	sent := append([]byte(nil), h.sent.Bytes()...)
	h.sentMu.Unlock()
	if len(serverIn) == 0 || len(serverOut) == 0 {
		t.Fatal("empty transcript")
	}
	reencoded := func(b []byte) string {
		var out strings.Builder
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			m, err := jsonrpc.Decode([]byte(l))
			if err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			out.Write(m.Encode())
			out.WriteByte('\n')
		}
		return out.String()
	}
	if got, want := string(serverIn), reencoded(sent); got != want {
		t.Errorf("client->server: server read %q\nwant the re-encoding %q", got, want)
	}
	if got, want := string(clientRead), reencoded(serverOut); got != want {
		t.Errorf("server->client: client read %q\nwant the re-encoding %q", got, want)
	}
}

func TestRealClientTranscriptReceiptsAndPack(t *testing.T) {
	t.Parallel()
	h := startProxy(t, func(o *Options) { o.StoreArgs = true })
	cli, ctx, received := realClient(t, h)
	tl, err := cli.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tl.Tools) < 4 {
		t.Fatalf("tools/list through the proxy: %v, %d tools", err, len(tl.Tools))
	}
	// Arguments that test the hashing: non-ASCII, a line separator, a big
	// integer, a float, nesting.
	odd := map[string]any{"text": "héllo\u2028wörld", "n": json.Number("123456789012345678901234567890"), "f": 1.5, "list": []any{true, nil, "x"}}
	calls := []struct {
		tool    string
		args    any
		isError bool
	}{
		{"get_weather", map[string]any{"city": "Lisbon"}, false},
		{"check_inventory", map[string]any{"sku": "SKU-1"}, false},
		{"echo", odd, false},
		{"fail", map[string]any{"message": "boom"}, true},
	}
	for _, c := range calls {
		req := mcp.CallToolRequest{}
		req.Params.Name = c.tool
		req.Params.Arguments = c.args
		res, err := cli.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if res.IsError != c.isError {
			t.Fatalf("%s: isError %v, want %v", c.tool, res.IsError, c.isError)
		}
	}
	if err := cli.Close(); err != nil {
		t.Logf("client close: %v", err)
	}
	s := h.wait()
	if !s.Complete {
		t.Fatalf("session incomplete: %v", s.Incomplete)
	}

	sameBytesBothWays(t, h, received())

	// One receipt per call, with the reference's fields.
	recs := h.receipts("mcp_tool_call")
	if len(recs) != len(calls) {
		t.Fatalf("%d mcp_tool_call receipts, want %d", len(recs), len(calls))
	}
	m := byTool(recs)
	for _, c := range calls {
		r := m[c.tool]
		if r == nil {
			t.Fatalf("no receipt for %s", c.tool)
		}
		for _, k := range []string{"receipt_id", "timestamp", "schema_version", "seq", "parent_receipt_id", "invocation_id", "session_id", "trace_id", "server_id", "server_transport", "tool_name", "mcp_request_id", "request_observed_at", "policy_decided_at", "response_observed_at", "arguments_hash", "arguments_content", "result_hash", "result_content", "result_is_error", "outcome", "duration_ms", "policy_verdict", "policy_reason", "policy_ref", "policy_hash", "proxy_version", "integration_source"} {
			if _, ok := r.Get(k); !ok {
				t.Errorf("%s receipt lacks %s", c.tool, k)
			}
		}
		want := OutcomeForwarded
		if c.isError {
			want = OutcomeError
		}
		if field(r, "outcome") != want || field(r, "policy_verdict") != "no_policy" || field(r, "server_transport") != "stdio" || field(r, "integration_source") != IntegrationSource {
			t.Errorf("%s receipt: outcome %q verdict %q transport %q", c.tool, field(r, "outcome"), field(r, "policy_verdict"), field(r, "server_transport"))
		}
		argJSON, _ := json.Marshal(c.args)
		wantHash, err := receipt.HashJSON(argJSON)
		if err != nil {
			t.Fatal(err)
		}
		if field(r, "arguments_hash") != wantHash {
			t.Errorf("%s arguments_hash %s, want %s (canonical JSON of the arguments)", c.tool, field(r, "arguments_hash"), wantHash)
		}
		if !strings.HasPrefix(field(r, "result_hash"), "sha256:") || len(field(r, "result_hash")) != 71 {
			t.Errorf("%s result_hash %q", c.tool, field(r, "result_hash"))
		}
		if v, _ := r.Get("arguments_content"); v == nil {
			t.Errorf("%s: --store-args kept no arguments", c.tool)
		}
		if v, _ := r.Get("result_content"); v != nil {
			t.Errorf("%s: results stored without --store-results", c.tool)
		}
	}
	// The session_metadata receipts (opening, then closing), and a pack
	// that verifies.
	md := h.receipts("session_metadata")
	if len(md) != 2 || field(md[0], "session_state") != SessionOpen || field(md[1], "session_state") != SessionClosed {
		t.Fatalf("%d session_metadata receipts: %s", len(md), mustJSON(md))
	}
	if v, _ := md[1].Get("session_complete"); v != true {
		t.Errorf("session_complete = %v", v)
	}
	art, err := Finish(h.st, s, t.TempDir(), demo.EphemeralSigner("proxy-test"), "shadow")
	if err != nil {
		t.Fatal(err)
	}
	if art.Pack == nil || art.Pack.NReceipts != len(calls)+2 {
		t.Fatalf("pack: %+v", art.Pack)
	}
	if res, err := verify.Verify(art.Pack.Dir, verify.Options{}); err != nil || res.ExitCode != 0 {
		t.Fatalf("pack verifies with exit %d: %+v", res.ExitCode, res.Errors)
	}
	first, _ := os.ReadFile(art.SessionFile)
	if !bytes.HasPrefix(first, []byte(`{"_store_seq"`)) || !bytes.Contains(bytes.SplitN(first, []byte("\n"), 2)[0], []byte(`"type":"session_metadata"`)) {
		t.Errorf("session file does not start with the session_metadata receipt: %.200s", first)
	}
}

// Our own MCP server (assay-mcp) behind the proxy, a real client in front:
// bytes unchanged both ways, one proxy receipt per call, the server's own
// receipts in the same trace, and the pack verifies.
func TestAssayMCPBehindTheProxy(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	if _, err := demo.BuildChallenge(filepath.Join(root, "challenge")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MCPPROXY_ROOT", root)
	h := startProxyFor(t, "assay-mcp", nil)
	cli, ctx, received := realClient(t, h)
	if _, err := cli.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ tool, path, verdict string }{
		{"verify-pack", "challenge/good", "PASS"},
		{"verify-pack", "challenge/tampered", "TAMPERED"},
		{"explain-pack", "challenge/good", "PASS"},
	} {
		req := mcp.CallToolRequest{}
		req.Params.Name = c.tool
		req.Params.Arguments = map[string]any{"path": filepath.Join(root, c.path)}
		res, err := cli.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if b, _ := json.Marshal(res.StructuredContent); !strings.Contains(string(b), `"`+c.verdict+`"`) {
			t.Fatalf("%s %s: %s", c.tool, c.path, b)
		}
	}
	cli.Close()
	s := h.wait()
	if !s.Complete || s.Outcomes[OutcomeForwarded] != 3 {
		t.Fatalf("session: complete %v %v outcomes %v", s.Complete, s.Incomplete, s.Outcomes)
	}
	sameBytesBothWays(t, h, received())
	bySource := map[string]int{}
	for _, r := range h.receipts("mcp_tool_call") {
		bySource[field(r, "integration_source")]++
	}
	if bySource[IntegrationSource] != 3 || bySource["assay.mcp_server"] != 3 {
		t.Fatalf("receipts by source: %v (want 3 from the proxy, 3 from the server itself)", bySource)
	}
	art, err := Finish(h.st, s, t.TempDir(), demo.EphemeralSigner("proxy-test"), "shadow")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.Verify(art.Pack.Dir, verify.Options{}); err != nil || res.ExitCode != 0 || art.Pack.NReceipts != 8 {
		t.Fatalf("pack: %d receipts, verify %v %v", art.Pack.NReceipts, res, err)
	}
}

// Enforce mode: a denied call never reaches the server; the client gets the
// reference's error in its own framing (Content-Length here); the receipt
// says denied with the rule.
func TestEnforceDenialInClientFraming(t *testing.T) {
	t.Parallel()
	pol := loadPolicy(t, `
mode: enforce
tools:
  deny: ["delete_*"]
`)
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	body := []byte(`{"jsonrpc":"2.0","id":"d1","method":"tools/call","params":{"name":"delete_records","arguments":{"table":"users","where":"1=1"}}}`)
	h.write(Frame(body, ContentLength))
	r := c.await("d1")
	if errCode(r) != CodeDenied {
		t.Fatalf("denied call answered %v", r)
	}
	e := r["error"].(map[string]any)
	if !strings.Contains(e["message"].(string), "deny_list") {
		t.Errorf("message %q", e["message"])
	}
	if ok := c.call(2, "get_weather", map[string]any{"city": "Oslo"}); ok["result"] == nil {
		t.Fatalf("allowed call: %v", ok)
	}
	h.closeClient()
	s := h.wait()
	c.mu.Lock()
	raw := c.raw.String()
	c.mu.Unlock()
	if !strings.Contains(raw, "Content-Length: ") {
		t.Errorf("the denial was not Content-Length framed: %q", raw)
	}
	serverIn, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	if bytes.Contains(serverIn, []byte("delete_records")) {
		t.Error("the denied call reached the server")
	}
	if !s.Complete || s.Outcomes[OutcomeDenied] != 1 || s.Outcomes[OutcomeForwarded] != 1 {
		t.Fatalf("session: complete %v outcomes %v (%v)", s.Complete, s.Outcomes, s.Incomplete)
	}
	d := byTool(h.receipts("mcp_tool_call"))["delete_records"]
	if field(d, "outcome") != OutcomeDenied || field(d, "policy_verdict") != "deny" || field(d, "policy_reason") != "deny_list" || field(d, "policy_rule") == "" || field(d, "policy_hash") != pol.Hash || field(d, "policy_mode") != "enforce" {
		t.Errorf("denied receipt: %s", mustJSON(d))
	}
	if v, _ := d.Get("duration_ms"); v == nil {
		t.Error("no duration_ms")
	}
	// The result hash commits to the denial the client was given.
	detail, _ := e["data"].(map[string]any)["detail"].(string)
	want, _ := receipt.HashValue(map[string]any{"denied": true, "reason": "deny_list", "detail": detail})
	if detail == "" || field(d, "result_hash") != want {
		t.Errorf("denied result_hash %q, want %q (the hash of the denial, detail %q)", field(d, "result_hash"), want, detail)
	}
}

// Audit mode forwards a call the policy would deny and records the real
// response with the would-be verdict (the reference recorded only "denied").
func TestAuditModeRecordsRealResponse(t *testing.T) {
	t.Parallel()
	pol := loadPolicy(t, `
mode: audit
tools:
  deny: ["ech?"]
`)
	h := startProxy(t, func(o *Options) { o.Policy = pol; o.StoreResults = true })
	c := newLineClient(h)
	c.handshake()
	r := c.call(1, "echo", map[string]any{"a": 1})
	if r["result"] == nil {
		t.Fatalf("audit mode did not forward: %v", r)
	}
	h.closeClient()
	s := h.wait()
	if !s.Complete || s.WouldDeny != 1 {
		t.Fatalf("session %+v", s)
	}
	e := h.receipts("mcp_tool_call")[0]
	if field(e, "outcome") != OutcomeForwarded || field(e, "policy_verdict") != "deny" || field(e, "policy_reason") != "deny_list" || field(e, "policy_mode") != "audit" {
		t.Errorf("receipt %s", mustJSON(e))
	}
	res, _ := json.Marshal(r["result"])
	wantHash, _ := receipt.HashJSON(res)
	if field(e, "result_hash") != wantHash {
		t.Errorf("result_hash %s, want the hash of the real result %s", field(e, "result_hash"), wantHash)
	}
	if v, _ := e.Get("result_content"); v == nil {
		t.Error("--store-results kept no result")
	}
}

// A batch is refused whole (MCP 2025-06-18 has no batches): the client
// gets one error, each tools/call in it a denied receipt naming its tool,
// and the server sees none of it.
func TestEnforceBatch(t *testing.T) {
	t.Parallel()
	pol := loadPolicy(t, "mode: enforce\ntools:\n  deny: [crash]\n")
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	h.write([]byte(`[{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"crash","arguments":{"code":9}}},{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Rome"}}}]` + "\n"))
	select {
	case b := <-c.msgs:
		if !bytes.Contains(b, []byte(`"id":null`)) || !bytes.Contains(b, []byte("-32600")) {
			t.Fatalf("first answer is not the batch's refusal: %s", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal")
	}
	h.closeClient()
	s := h.wait()
	serverIn, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
	if bytes.Contains(serverIn, []byte("crash")) || bytes.Contains(serverIn, []byte("Rome")) {
		t.Fatalf("server read %q", serverIn)
	}
	if s.Outcomes[OutcomeDenied] != 2 || s.ToolCalls != 2 {
		t.Fatalf("outcomes %v, calls %d", s.Outcomes, s.ToolCalls)
	}
	if m := byTool(h.receipts("mcp_tool_call")); m["crash"] == nil || m["get_weather"] == nil {
		t.Fatalf("receipts %v", m)
	}
}

// The server's own receipts (ASSAY_TRACE_ID) join the session's trace.
func TestServerReceiptsJoinTrace(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	c := newLineClient(h)
	c.handshake()
	if r := c.call(1, "record_action", map[string]any{"action": "refund"}); r["result"] == nil {
		t.Fatalf("record_action: %v", r)
	}
	h.closeClient()
	h.wait()
	if n := len(h.receipts("capability_use")); n != 1 {
		t.Fatalf("%d capability_use receipts from the server in the session's trace, want 1", n)
	}
}

// Session budget in enforce mode: the third call is denied.
func TestSessionBudgetEnforced(t *testing.T) {
	t.Parallel()
	pol := loadPolicy(t, "mode: enforce\nbudget:\n  max_tool_calls: 2\n")
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	for i := 1; i <= 3; i++ {
		r := c.call(i, "get_weather", map[string]any{"city": "Oslo"})
		if (i <= 2) != (r["result"] != nil) {
			t.Fatalf("call %d: %v", i, r)
		}
		if i == 3 && errCode(r) != CodeDenied {
			t.Fatalf("call 3: %v", r)
		}
	}
	h.closeClient()
	h.wait()
}

func loadPolicy(t *testing.T, yaml string) *mcppolicy.Policy {
	t.Helper()
	p, err := mcppolicy.Load(writePolicy(t, yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An HTTP upstream that cannot be reached: the client gets the transport's
// error answer, the call is recorded as an error saying so, and the session
// is incomplete (it was "complete" while the transport's answer passed for
// the server's).
func TestUnreachableHTTPUpstreamIsIncomplete(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/mcp"
	ln.Close() // nothing listens there now: connection refused
	up, err := NewHTTPUpstream(url, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := store.Open(t.TempDir())
	sid := NewSessionID()
	trace := NewTraceID(sid, time.Now())
	cr, cw, _ := os.Pipe()
	pr, pw, _ := os.Pipe()
	done := make(chan *Session, 1)
	go func() {
		s, _ := Run(context.Background(), Options{Upstream: up, Client: cr, ClientOut: pw, Store: st, TraceID: trace, SessionID: sid, ServerID: "gone", Grace: time.Second})
		pw.Close()
		done <- s
	}()
	cw.Write([]byte(`{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n"))
	cw.Write([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{}}}` + "\n"))
	r := NewReader(pr)
	m, err := r.Next()
	for err == nil && !bytes.Contains(m.Body, []byte(`"id":7`)) {
		m, err = r.Next()
	}
	if err != nil || !bytes.Contains(m.Body, []byte(`"id":7`)) || !bytes.Contains(m.Body, []byte(`"error"`)) {
		t.Fatalf("client got %q, %v", m.Body, err)
	}
	cw.Close()
	var s *Session
	select {
	case s = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not end")
	}
	if s.Complete || !strings.Contains(strings.Join(s.Incomplete, ";"), "could not be reached") {
		t.Fatalf("session: complete %v %v", s.Complete, s.Incomplete)
	}
	recs, _, _ := st.Read(trace)
	var call *receipt.Receipt
	for _, r := range recs {
		if field(r, "type") == "mcp_tool_call" {
			call = r
		}
	}
	if call == nil || field(call, "outcome") != OutcomeError || !strings.Contains(field(call, "outcome_detail"), "no response from the MCP server") || field(call, "server_transport") != "streamable-http" {
		t.Fatalf("receipt: %s", mustJSON(call))
	}
}

// budget.max_wall_time_sec is enforced through the proxy: a call after the
// session's wall time is denied with session_time_exceeded.
func TestWallTimeEnforced(t *testing.T) {
	t.Parallel()
	// 3 s: the handshake and first call fit even on a loaded machine.
	pol := loadPolicy(t, "mode: enforce\nbudget:\n  max_wall_time_sec: 3\n")
	h := startProxy(t, func(o *Options) { o.Policy = pol })
	c := newLineClient(h)
	c.handshake()
	if r := c.call(1, "get_weather", map[string]any{"city": "Oslo"}); r["result"] == nil {
		t.Fatalf("call within the wall time: %v", r)
	}
	time.Sleep(3100 * time.Millisecond)
	r := c.call(2, "get_weather", map[string]any{"city": "Oslo"})
	if errCode(r) != CodeDenied || !strings.Contains(mustJSONString(r), "session_time_exceeded") {
		t.Fatalf("call after the wall time: %v", r)
	}
	h.closeClient()
	if s := h.wait(); s.Outcomes[OutcomeDenied] != 1 || s.Outcomes[OutcomeForwarded] != 1 {
		t.Fatalf("outcomes %v", s.Outcomes)
	}
}

func mustJSONString(v any) string { b, _ := json.Marshal(v); return string(b) }
