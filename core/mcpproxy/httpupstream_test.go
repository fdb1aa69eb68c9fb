package mcpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/tools"
)

// exchange is one HTTP request the server saw and what it answered.
type exchange struct {
	Method string
	Header http.Header
	Body   []byte
	Status int
	CType  string
	Resp   []byte
}

// recorder wraps a handler and keeps every exchange, bytes as sent.
type recorder struct {
	h  http.Handler
	mu sync.Mutex
	ex []*exchange
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	e := &exchange{Method: r.Method, Header: r.Header.Clone(), Body: body}
	rw := &captureWriter{ResponseWriter: w, e: e, mu: &rec.mu}
	rec.mu.Lock()
	rec.ex = append(rec.ex, e)
	rec.mu.Unlock()
	rec.h.ServeHTTP(rw, r)
}

func (rec *recorder) all() []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]exchange, len(rec.ex))
	for i, e := range rec.ex {
		out[i] = *e
		out[i].Resp = append([]byte(nil), e.Resp...)
	}
	return out
}

type captureWriter struct {
	http.ResponseWriter
	e  *exchange
	mu *sync.Mutex
}

func (c *captureWriter) WriteHeader(s int) {
	c.mu.Lock()
	c.e.Status = s
	c.e.CType = c.Header().Get("Content-Type")
	c.mu.Unlock()
	c.ResponseWriter.WriteHeader(s)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.e.Status == 0 {
		c.e.Status = http.StatusOK
		c.e.CType = c.Header().Get("Content-Type")
	}
	c.e.Resp = append(c.e.Resp, b...)
	c.mu.Unlock()
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// noLeaks checks, at the end of the test, that no goroutine outlives it.
func noLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func newUp(t *testing.T, url string, o HTTPOptions) *HTTPUpstream {
	t.Helper()
	u, err := NewHTTPUpstream(url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Stop(time.Second) })
	return u
}

func send(t *testing.T, u *HTTPUpstream, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.Send(ctx, Message{Body: []byte(body), Framing: NDJSON}); err != nil {
		t.Fatalf("send %s: %v", body, err)
	}
}

// recv returns the next message, failing the test after a few seconds.
func recv(t *testing.T, u *HTTPUpstream) Message {
	t.Helper()
	type res struct {
		m   Message
		err error
	}
	ch := make(chan res, 1)
	go func() { m, err := u.Recv(); ch <- res{m, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("recv: %v", r.err)
		}
		if len(r.m.Raw) != 0 || r.m.Framing != NDJSON {
			t.Fatalf("message framing: raw %q framing %v", r.m.Raw, r.m.Framing)
		}
		return r.m
	case <-time.After(5 * time.Second):
		t.Fatal("recv: nothing after 5s")
	}
	return Message{}
}

// recvEOF expects io.EOF next.
func recvEOF(t *testing.T, u *HTTPUpstream) {
	t.Helper()
	ch := make(chan error, 1)
	go func() {
		m, err := u.Recv()
		if err == nil {
			err = fmt.Errorf("unexpected message %s", m.Body)
		}
		ch <- err
	}()
	select {
	case err := <-ch:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("recv: want io.EOF, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("recv: no io.EOF after 5s")
	}
}

type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      any             `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decode(t *testing.T, m Message) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal(m.Body, &r); err != nil {
		t.Fatalf("not JSON-RPC: %s", m.Body)
	}
	return r
}

func TestHTTPNewRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"", "scheme"},
		{"ftp://example.com/mcp", "not http or https"},
		{"localhost:8080/mcp", "not http or https"},
		{"http:///mcp", "no host"},
		{"https://user:hunter22@/mcp", "no host"},
		{"http://[::1/mcp", "not a valid URL"},
	} {
		_, err := NewHTTPUpstream(tc.url, HTTPOptions{})
		if err == nil {
			t.Errorf("%q: accepted", tc.url)
			continue
		}
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter22") {
			t.Errorf("%q: code %d, %v", tc.url, exit.Code(err), err)
		}
	}
	u, err := NewHTTPUpstream("HTTPS://u:p@example.com:8443/mcp?key=k", HTTPOptions{})
	if err != nil || u.Transport() != "streamable-http" || u.safeURL != "https://example.com:8443/mcp" {
		t.Fatalf("valid URL: %v %+v", err, u)
	}
	u.Stop(0)
}

// assayHTTPServer serves our own MCP server over streamable HTTP (with a
// bearer token when token is set), rooted where a challenge pack was built,
// behind a recorder of what it received.
func assayHTTPServer(t *testing.T, token string) (*demo.Challenge, *recorder, *httptest.Server) {
	t.Helper()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	ch, err := demo.BuildChallenge(filepath.Join(root, "challenge"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tools.New(tools.Config{Roots: []string{root}, Home: t.TempDir(), Transport: tools.TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{h: srv.HTTPHandler(tools.HTTPOptions{Token: token})}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close) // after the upstream's Stop (cleanups run last first)
	return ch, rec, ts
}

// Our own server behind the upstream, the handshake era: every message
// reaches the server unchanged, every answer comes back byte for byte, and
// the session id and protocol version are carried.
func TestHTTPAgainstAssayServer(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	ch, rec, ts := assayHTTPServer(t, "tok-s3cret-value")
	var logs bytes.Buffer
	lg := zerolog.New(&logs)
	u := newUp(t, ts.URL+tools.EndpointPath, HTTPOptions{
		Header: http.Header{"Authorization": {"Bearer tok-s3cret-value"}},
		Logger: &lg,
	})

	sent := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":"call-3","method":"tools/call","params":{"name":"verify-pack","arguments":{"path":` + quote(filepath.Join(ch.Dir, "good")) + `}}}`,
	}
	send(t, u, sent[0])
	init := decode(t, recv(t, u))
	if init.ID != float64(1) || !strings.Contains(string(init.Result), `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("initialize: %+v", init)
	}
	sid := u.SessionID()
	if sid == "" || u.ProtocolVersion() != "2025-11-25" {
		t.Fatalf("session %q version %q", sid, u.ProtocolVersion())
	}
	send(t, u, sent[1])
	send(t, u, sent[2])
	list := recv(t, u)
	if r := decode(t, list); r.ID != float64(2) || !strings.Contains(string(r.Result), `"verify-pack"`) {
		t.Fatalf("tools/list: %.200s", list.Body)
	}
	send(t, u, sent[3])
	call := recv(t, u)
	if r := decode(t, call); r.ID != "call-3" || r.Error != nil || !strings.Contains(string(r.Result), `"verdict":"PASS"`) {
		t.Fatalf("tools/call: %.300s", call.Body)
	}
	if err := u.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := u.Send(context.Background(), Message{Body: []byte(`{"jsonrpc":"2.0","id":9,"method":"ping"}`)}); err == nil {
		t.Fatal("Send after CloseSend accepted")
	}
	recvEOF(t, u)
	if ex := u.Stop(time.Second); ex.Code != -1 || ex.Killed {
		t.Fatalf("stop: %+v", ex)
	}

	ex := rec.all()
	var posts []exchange
	var gets, deletes int
	for _, e := range ex {
		if e.Header.Get("Authorization") != "Bearer tok-s3cret-value" {
			t.Errorf("%s without the extra header", e.Method)
		}
		switch e.Method {
		case http.MethodPost:
			posts = append(posts, e)
		case http.MethodGet:
			gets++
			if e.Header.Get("Mcp-Session-Id") != sid || e.Header.Get("Accept") != "text/event-stream" {
				t.Errorf("GET headers %v", e.Header)
			}
		case http.MethodDelete:
			deletes++
			if e.Header.Get("Mcp-Session-Id") != sid {
				t.Errorf("DELETE session %q, want %q", e.Header.Get("Mcp-Session-Id"), sid)
			}
		}
	}
	if len(posts) != len(sent) || gets != 1 || deletes != 1 {
		t.Fatalf("saw %d POST %d GET %d DELETE, want %d/1/1", len(posts), gets, deletes, len(sent))
	}
	if ex[len(ex)-1].Method != http.MethodDelete {
		t.Errorf("DELETE was not last: %s", ex[len(ex)-1].Method)
	}
	delivered := [][]byte{nil, nil, list.Body, call.Body}
	for i, p := range posts {
		if string(p.Body) != sent[i] {
			t.Errorf("POST %d body changed or out of order: %.200s", i, p.Body)
			continue
		}
		if ct, acc := p.Header.Get("Content-Type"), p.Header.Get("Accept"); ct != "application/json" || acc != "application/json, text/event-stream" {
			t.Errorf("POST %d content-type %q accept %q", i, ct, acc)
		}
		wantSID, wantV := sid, "2025-11-25"
		if i == 0 {
			wantSID, wantV = "", ""
		}
		if p.Header.Get("Mcp-Session-Id") != wantSID || p.Header.Get("Mcp-Protocol-Version") != wantV {
			t.Errorf("POST %d session %q version %q", i, p.Header.Get("Mcp-Session-Id"), p.Header.Get("Mcp-Protocol-Version"))
		}
		if delivered[i] != nil && !bytes.Equal(delivered[i], bytes.TrimSpace(p.Resp)) {
			t.Errorf("POST %d: delivered bytes differ from the server's:\n%.300s\n%.300s", i, delivered[i], p.Resp)
		}
	}
	if p := posts[1]; p.Status != http.StatusAccepted {
		t.Errorf("notification answered %d", p.Status)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("secret in logs: %s", logs.String())
	}
}

// The stateless 2026-07-28 era: no initialize, no session; the protocol
// version comes from each request's _meta and Mcp-Method/Mcp-Name mirror
// the body, as the server requires.
func TestHTTPModernEraAgainstAssayServer(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	ch, rec, ts := assayHTTPServer(t, "")
	u := newUp(t, ts.URL+tools.EndpointPath, HTTPOptions{})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}`
	send(t, u, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+meta+`}}`)
	if r := decode(t, recv(t, u)); r.ID != float64(1) || r.Error != nil || !strings.Contains(string(r.Result), `"verify-pack"`) {
		t.Fatalf("tools/list: %+v", r)
	}
	send(t, u, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"verify-pack","arguments":{"path":`+quote(filepath.Join(ch.Dir, "tampered"))+`},`+meta+`}}`)
	m := recv(t, u)
	if r := decode(t, m); r.ID != float64(2) || r.Error != nil || !strings.Contains(string(r.Result), `"verdict":"TAMPERED"`) {
		t.Fatalf("tools/call: %.300s", m.Body)
	}
	u.CloseSend()
	recvEOF(t, u)
	u.Stop(time.Second)
	ex := rec.all()
	if len(ex) != 2 {
		t.Fatalf("%d requests, want the 2 POSTs only (no GET, no DELETE in 2026-07-28)", len(ex))
	}
	h := ex[1].Header
	if h.Get("Mcp-Protocol-Version") != "2026-07-28" || h.Get("Mcp-Method") != "tools/call" || h.Get("Mcp-Name") != "verify-pack" || h.Get("Mcp-Session-Id") != "" {
		t.Fatalf("headers %v", h)
	}
	if !bytes.Equal(m.Body, bytes.TrimSpace(ex[1].Resp)) {
		t.Fatalf("delivered bytes differ:\n%s\n%s", m.Body, ex[1].Resp)
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// sseServer is an mcp-go server whose "work" tool sends two progress
// notifications before its result, so the POST is answered with SSE; GET
// streams are refused (405).
func sseServer(t *testing.T, opts ...server.StreamableHTTPOption) (*recorder, *httptest.Server) {
	t.Helper()
	rec, ts, _ := sseServerMCP(t, opts...)
	return rec, ts
}

func sseServerMCP(t *testing.T, opts ...server.StreamableHTTPOption) (*recorder, *httptest.Server, *server.MCPServer) {
	t.Helper()
	s := server.NewMCPServer("fixture", "1", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("work", mcp.WithNumber("ms")), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
			for i := 1; i <= 2; i++ {
				_ = server.ServerFromContext(ctx).SendNotificationToClient(ctx, "notifications/progress",
					map[string]any{"progressToken": req.Params.Meta.ProgressToken, "progress": i, "total": 2})
				time.Sleep(5 * time.Millisecond) // one at a time through mcp-go's forwarder
			}
		}
		// Give the transport time to write the notifications before the
		// result (mcp-go can reorder them otherwise; see mcp-notes §1.4).
		d := time.Duration(req.GetFloat("ms", 30)) * time.Millisecond
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return mcp.NewToolResultText(fmt.Sprintf("slept %s", d)), nil
	})
	opts = append([]server.StreamableHTTPOption{server.WithDisableStreaming(true),
		server.WithStreamableHTTPLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	rec := &recorder{h: server.NewStreamableHTTPServer(s, opts...)}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	return rec, ts, s
}

func initSession(t *testing.T, u *HTTPUpstream) {
	t.Helper()
	send(t, u, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if r := decode(t, recv(t, u)); r.ID != float64(0) || r.Error != nil {
		t.Fatalf("initialize: %+v", r)
	}
	send(t, u, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// One POST answered with an SSE stream yields several messages, in the
// server's order, each exactly the event's data. The client leaves right
// after sending the call: the answer still arrives, then the session ends
// with a DELETE, then Recv reports io.EOF.
func TestHTTPSSEResponsesFromMCPGo(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	rec, ts := sseServer(t)
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	initSession(t, u)
	if u.ProtocolVersion() != "2025-06-18" {
		t.Fatalf("version %q", u.ProtocolVersion())
	}
	waitFor(t, "the GET stream attempt", func() bool {
		for _, e := range rec.all() {
			if e.Method == http.MethodGet && e.Status == http.StatusMethodNotAllowed {
				return true
			}
		}
		return false
	})
	send(t, u, `{"jsonrpc":"2.0","id":"w","method":"tools/call","params":{"name":"work","arguments":{"ms":100},"_meta":{"progressToken":"p-w"}}}`)
	u.CloseSend()
	var got []Message
	for range 3 {
		got = append(got, recv(t, u))
	}
	recvEOF(t, u)
	u.Stop(time.Second)

	ex := rec.all()
	var call *exchange
	for i := range ex {
		if bytes.Contains(ex[i].Body, []byte(`"id":"w"`)) {
			call = &ex[i]
		}
	}
	if call == nil || !strings.HasPrefix(call.CType, "text/event-stream") || call.Header.Get("Mcp-Protocol-Version") != "2025-06-18" {
		t.Fatalf("call exchange %+v", call)
	}
	var events []string
	_ = readSSE(bytes.NewReader(call.Resp), func(d []byte) { events = append(events, string(d)) })
	var delivered []string
	for _, m := range got {
		delivered = append(delivered, string(m.Body))
	}
	if strings.Join(events, "\n") != strings.Join(delivered, "\n") {
		t.Fatalf("delivered:\n%s\nserver sent:\n%s", strings.Join(delivered, "\n"), strings.Join(events, "\n"))
	}
	if r := decode(t, got[2]); r.ID != "w" || !strings.Contains(string(r.Result), "slept 100ms") {
		t.Fatalf("last message %s", got[2].Body)
	}
	for _, m := range got[:2] {
		if decode(t, m).Method != "notifications/progress" {
			t.Fatalf("want progress first: %s", m.Body)
		}
	}
	if last := ex[len(ex)-1]; last.Method != http.MethodDelete || last.Header.Get("Mcp-Session-Id") == "" {
		t.Errorf("last request %s %v, want the DELETE with the session id", last.Method, last.Header)
	}
}

// Once the session is initialised the GET stream carries what the server
// sends on its own; CloseSend ends it.
func TestHTTPGETStream(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	rec, ts, s := sseServerMCP(t, server.WithDisableStreaming(false))
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	initSession(t, u)
	waitFor(t, "the GET stream", func() bool {
		for _, e := range rec.all() {
			if e.Method == http.MethodGet && e.Status == http.StatusOK {
				return true
			}
		}
		return false
	})
	s.SendNotificationToAllClients("notifications/tools/list_changed", nil)
	if r := decode(t, recv(t, u)); r.Method != "notifications/tools/list_changed" {
		t.Fatalf("got %+v", r)
	}
	u.CloseSend()
	recvEOF(t, u)
	u.Stop(time.Second)
}

// In the 2026-07-28 era every request stands alone: a slow call does not
// hold up a later one, and each POST's stream arrives in order.
func TestHTTPConcurrentCallsModernEra(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	rec, ts := sseServer(t)
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	call := func(id string, ms int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"method":"tools/call","params":{"name":"work","arguments":{"ms":%d},"_meta":{"progressToken":"p-%s",`+
			`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, id, ms, id)
	}
	send(t, u, call("slow", 400))
	send(t, u, call("fast", 10))
	u.CloseSend()
	seq := map[string][]string{}
	var order []string
	for range 6 {
		m := recv(t, u)
		r := decode(t, m)
		switch {
		case r.Method == "notifications/progress":
			var p struct {
				Token    string `json:"progressToken"`
				Progress int    `json:"progress"`
			}
			_ = json.Unmarshal(r.Params, &p)
			key := strings.TrimPrefix(p.Token, "p-")
			seq[key] = append(seq[key], fmt.Sprint("progress", p.Progress))
		default:
			id, _ := r.ID.(string)
			seq[id] = append(seq[id], "result")
			order = append(order, id)
		}
	}
	recvEOF(t, u)
	u.Stop(time.Second)
	for _, k := range []string{"slow", "fast"} {
		if strings.Join(seq[k], ",") != "progress1,progress2,result" {
			t.Errorf("%s stream order: %v", k, seq[k])
		}
	}
	if strings.Join(order, ",") != "fast,slow" {
		t.Errorf("results in order %v: the slow call held up the fast one", order)
	}
	for _, e := range rec.all() {
		if e.Method != http.MethodPost || e.Header.Get("Mcp-Method") != "tools/call" || e.Header.Get("Mcp-Name") != "work" || e.Header.Get("Mcp-Session-Id") != "" {
			t.Errorf("%s with headers %v", e.Method, e.Header)
		}
	}
}

// A tool whose argument is mirrored into a header (x-mcp-header, 2026-07-28):
// the upstream learns it from tools/list and sends Mcp-Param-Region, without
// which the server refuses the call.
func TestHTTPParamHeadersModernEra(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	s := server.NewMCPServer("fixture", "1", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewToolWithRawSchema("query", "runs a query", json.RawMessage(
		`{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}},"required":["region"]}`)),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("ran in " + req.GetString("region", "")), nil
		})
	rec := &recorder{h: server.NewStreamableHTTPServer(s, server.WithStreamableHTTPLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	send(t, u, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+meta+`}}`)
	recv(t, u)
	send(t, u, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"region":"eu-west-1"},`+meta+`}}`)
	m := recv(t, u)
	if r := decode(t, m); r.Error != nil || !strings.Contains(string(r.Result), "ran in eu-west-1") {
		t.Fatalf("call: %s", m.Body)
	}
	if u.ProtocolVersion() != "2026-07-28" {
		t.Errorf("version %q", u.ProtocolVersion())
	}
	u.CloseSend()
	recvEOF(t, u)
	u.Stop(time.Second)
	ex := rec.all()
	if len(ex) != 2 || ex[1].Header.Get("Mcp-Param-Region") != "eu-west-1" {
		t.Fatalf("%d requests; call headers %v", len(ex), ex[len(ex)-1].Header)
	}
}

// Requests whose POSTs fail get one error each; a notification gets none.
// (Batches never reach an upstream: the proxy refuses them, core/jsonrpc.)
func TestHTTPRequestsFailure(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	t.Cleanup(ts.Close)
	u := newUp(t, ts.URL, HTTPOptions{})
	send(t, u, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	send(t, u, `{"jsonrpc":"2.0","method":"notifications/progress"}`)
	send(t, u, `{"jsonrpc":"2.0","id":"two","method":"tools/list"}`)
	ids := map[any]string{}
	for range 2 {
		r := decode(t, recv(t, u))
		if r.Error != nil {
			ids[r.ID] = r.Error.Message
		}
	}
	want := "upstream HTTP 503 Service Unavailable: overloaded"
	if len(ids) != 2 || ids[float64(1)] != want || ids["two"] != want {
		t.Fatalf("errors %v", ids)
	}
	u.CloseSend()
	recvEOF(t, u)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestHTTPReadSSE(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"one event", "event: message\ndata: {\"a\":1}\n\n", []string{`{"a":1}`}},
		{"multi-line data", "data: [1,\ndata: 2]\n\n", []string{"[1,\n2]"}},
		{"comments and fields", ": ping\nid: 7\nretry: 10\nevent: message\ndata:{\"b\":2}\n\n: bye\n\n", []string{`{"b":2}`}},
		{"CRLF", "data: x\r\n\r\ndata: y\r\n\r\n", []string{"x", "y"}},
		{"no blank line at the end", "data: {\"c\":3}\n", []string{`{"c":3}`}},
		{"no newline at the end", "data: {\"c\":3}", []string{`{"c":3}`}},
		{"empty stream", "", nil},
		{"blank lines only", "\n\n\n", nil},
		{"value without space", "data:z\n\n", []string{"z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if err := readSSE(strings.NewReader(tc.in), func(b []byte) { got = append(got, string(b)) }); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

// A server that pretty-prints: the message is compacted, since a line break
// would split it on an NDJSON stdio stream.
func TestHTTPMultiLineBodiesAreCompacted(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"jsonrpc\": \"2.0\",\ndata:  \"id\": 4,\ndata:  \"result\": {\"t\": \"a b\\n\"}}\n\n")
	}))
	defer ts.Close()
	u := newUp(t, ts.URL, HTTPOptions{})
	send(t, u, `{"jsonrpc":"2.0","id":4,"method":"ping"}`)
	if m := recv(t, u); string(m.Body) != `{"jsonrpc":"2.0","id":4,"result":{"t":"a b\n"}}` {
		t.Fatalf("got %s", m.Body)
	}
}

// Failures never leave a request unanswered, never leak a secret, and a
// failed notification is only logged.
func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	status := func(code int, ctype, body string) string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(code)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(ts.Close)
		return ts.URL + "/mcp"
	}
	for _, tc := range []struct {
		name, url string
		want      string // substring of the synthesized message; "" = delivered as sent
		body      string // for want == "": the exact body expected
		warns     int    // warnings logged: the request's failure, and the notification's
	}{
		{"connection refused", "http://user:pw-s3cret@" + dead + "/mcp?token=q-s3cret", "upstream unreachable: connection refused", "", 2},
		{"500", status(500, "text/plain", "boom Bearer hdr-s3cret-value\nsecond line"), "upstream HTTP 500 Internal Server Error: boom [redacted]", "", 2},
		// The token alone, without its "Bearer " scheme, is still a secret.
		{"500 echoing the bare token", status(500, "text/plain", "invalid key hdr-s3cret-value"), "upstream HTTP 500 Internal Server Error: invalid key [redacted]", "", 2},
		// So is a URL's user name (https://TOKEN@host/ is a common form).
		{"500 echoing the URL's user", strings.Replace(status(500, "text/plain", "unknown user usr-s3cret-token"), "http://", "http://usr-s3cret-token@", 1), "upstream HTTP 500 Internal Server Error: unknown user [redacted]", "", 2},
		{"401", status(401, "text/plain", "no"), "upstream refused the request (HTTP 401 Unauthorized)", "", 2},
		{"200 with no answer", status(200, "application/json", ""), "upstream answered without a response to this request", "", 1},
		{"202 for a request", status(202, "", ""), "upstream answered without a response to this request", "", 1},
		{"400 JSON-RPC error (2026 era)", status(400, "application/json", `{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"bad"}}`+"\n"), "",
			`{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"bad"}}`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			lg := zerolog.New(&logs)
			u := newUp(t, tc.url, HTTPOptions{Header: http.Header{"Authorization": {"Bearer hdr-s3cret-value"}}, Logger: &lg})
			send(t, u, `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`)
			m := recv(t, u)
			if tc.want == "" {
				if string(m.Body) != tc.body {
					t.Fatalf("got %s", m.Body)
				}
			} else {
				r := decode(t, m)
				if r.ID != float64(5) || r.Error == nil || r.Error.Code != -32603 || !strings.HasPrefix(r.Error.Message, tc.want) {
					t.Fatalf("got %s", m.Body)
				}
			}
			// A notification that fails is logged, never answered.
			send(t, u, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`)
			u.CloseSend()
			recvEOF(t, u)
			u.Stop(time.Second)
			if n := strings.Count(logs.String(), `"level":"warn"`); n != tc.warns {
				t.Errorf("%d warnings, want %d: %s", n, tc.warns, logs.String())
			}
			if strings.Contains(logs.String()+string(m.Body), "s3cret") {
				t.Errorf("secret leaked: %s %s", logs.String(), m.Body)
			}
		})
	}
}

// A message the server cannot parse is forwarded as sent, and the server's
// parse error (id null) comes back as a stdio server's would.
func TestHTTPUnparsableMessage(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	rec, ts := sseServer(t)
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	send(t, u, `{"jsonrpc":"2.0", not json`)
	m := recv(t, u)
	if r := decode(t, m); r.ID != nil || r.Error == nil || r.Error.Code != -32700 {
		t.Fatalf("got %s", m.Body)
	}
	u.CloseSend()
	recvEOF(t, u)
	u.Stop(time.Second)
	if ex := rec.all(); len(ex) != 1 || string(ex[0].Body) != `{"jsonrpc":"2.0", not json` || !bytes.Equal(bytes.TrimSpace(ex[0].Resp), m.Body) {
		t.Fatalf("exchanges %+v", ex)
	}
}

// A real stateful mcp-go server that no longer knows the session answers
// 404: the client is told the session expired.
func TestHTTPSessionExpired(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	rec, ts := sseServer(t, server.WithStateful(true))
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	initSession(t, u)
	sid := u.SessionID()
	if sid == "" {
		t.Fatal("no session id issued")
	}
	// End the session behind the upstream's back.
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/mcp", nil)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	send(t, u, `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`)
	r := decode(t, recv(t, u))
	if r.ID != float64(8) || r.Error == nil || !strings.Contains(r.Error.Message, "session expired") {
		t.Fatalf("got %+v", r)
	}
	if u.SessionID() != "" {
		t.Fatalf("expired session kept: %q", u.SessionID())
	}
	// A new initialize starts a new session.
	initSession(t, u)
	if u.SessionID() == "" || u.SessionID() == sid {
		t.Fatalf("new session %q (old %q)", u.SessionID(), sid)
	}
	waitFor(t, "a GET stream attempt for the new session", func() bool {
		for _, e := range rec.all() {
			if e.Method == http.MethodGet && e.Header.Get("Mcp-Session-Id") == u.SessionID() && e.Status != 0 {
				return true
			}
		}
		return false
	})
	u.CloseSend()
	recvEOF(t, u)
	u.Stop(time.Second)
	var posts int
	for _, e := range rec.all() {
		if e.Method == http.MethodPost {
			posts++
		}
	}
	if posts != 5 {
		t.Fatalf("%d POSTs, want 5", posts)
	}
}

// Stop cancels a call that does not finish within the grace period: the
// client gets an error for it, Recv ends, nothing is left running.
func TestHTTPStopCancelsHangingCall(t *testing.T) {
	t.Parallel()
	noLeaks(t)
	_, ts := sseServer(t)
	u := newUp(t, ts.URL+"/mcp", HTTPOptions{})
	initSession(t, u)
	send(t, u, `{"jsonrpc":"2.0","id":"hang","method":"tools/call","params":{"name":"work","arguments":{"ms":60000}}}`)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	ex := u.Stop(100 * time.Millisecond)
	if !ex.Killed || ex.Code != -1 || !strings.Contains(ex.Detail, "cancelled 1 in-flight") {
		t.Fatalf("exit %+v", ex)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Stop took %s", d)
	}
	if again := u.Stop(time.Second); again != ex {
		t.Fatalf("second Stop: %+v", again)
	}
	r := decode(t, recv(t, u))
	if r.ID != "hang" || r.Error == nil || r.Error.Message != "upstream stopped before answering" {
		t.Fatalf("got %+v", r)
	}
	recvEOF(t, u)
	if err := u.Send(context.Background(), Message{Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)}); err == nil {
		t.Fatal("Send after Stop accepted")
	}
}

func FuzzReadSSE(f *testing.F) {
	for _, s := range []string{"data: {}\n\n", "data: a\ndata: b\n\n", ": c\r\nid: 1\r\ndata:x\r\n\r\n", "data", "\n\ndata: z"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		total := 0
		err := readSSE(bytes.NewReader(in), func(d []byte) { total += len(d) })
		if err != nil || total > len(in) {
			t.Fatalf("err %v, %d data bytes from %d input bytes", err, total, len(in))
		}
	})
}
