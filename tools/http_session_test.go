package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/verify"
)

// httpEnv is an assay-mcp HTTP server (its real http.Server, timeouts
// included) on a loopback port.
type httpEnv struct {
	t    *testing.T
	srv  *Server
	url  string
	root string
}

func newHTTPEnv(t *testing.T, opt HTTPOptions) *httpEnv {
	t.Helper()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	srv, err := New(Config{Roots: []string{root}, Home: t.TempDir(), Transport: TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = srv.NewHTTPServer(opt, nil)
	ts.Start()
	t.Cleanup(ts.Close) // after the clients' cleanups (LIFO)
	return &httpEnv{t: t, srv: srv, url: ts.URL + EndpointPath, root: root}
}

// httpClient is a real mcp-go client on the streamable HTTP transport, in
// the handshake era (sessions).
type httpClient struct {
	*env
	tr *transport.StreamableHTTP
}

func (h *httpEnv) connect() *httpClient {
	h.t.Helper()
	tr, err := transport.NewStreamableHTTP(h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20251125))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "h", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		h.t.Fatal(err)
	}
	if tr.GetSessionId() == "" {
		h.t.Fatal("no Mcp-Session-Id after initialize")
	}
	return &httpClient{env: &env{t: h.t, srv: h.srv, cli: c, root: h.root}, tr: tr}
}

// emit records one decision receipt and returns the session's trace id.
func (c *httpClient) emit(who string) string {
	var r EmitResult
	c.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"who": who}}, &r)
	return r.TraceID
}

// raw sends one request and returns the status and body.
func (h *httpEnv) raw(method, session string, body io.Reader) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(mcp.HeaderProtocolVersion, mcp.ProtocolVersion20251125)
	if session != "" {
		req.Header.Set(server.HeaderKeySessionID, session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// wantRPCError checks a JSON-RPC error document.
func wantRPCError(t *testing.T, b []byte, want string) {
	t.Helper()
	var m struct {
		JSONRPC string `json:"jsonrpc"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.JSONRPC != "2.0" || m.Error.Code == 0 || !strings.Contains(m.Error.Message, want) {
		t.Fatalf("want a JSON-RPC error mentioning %q, got %s", want, b)
	}
}

const toolsList = `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`

// checkSessionPack verifies the pack an ended session left and returns
// its receipts; the last one is the session_metadata receipt.
func (h *httpEnv) checkSessionPack(traceID string, complete bool, endedBy string) []*receipt.Receipt {
	h.t.Helper()
	dir := h.srv.sessionPackDir(traceID)
	res, err := verify.Verify(dir, verify.Options{})
	if err != nil {
		h.t.Fatalf("session pack of %s: %v", traceID, err)
	}
	if res.ExitCode != 0 {
		h.t.Fatalf("session pack of %s does not verify: %+v", traceID, res)
	}
	recs := readPackReceipts(h.t, dir)
	var md *receipt.Receipt
	for _, r := range recs {
		if tid, _ := r.Get("_trace_id"); tid != nil && tid != traceID {
			h.t.Fatalf("pack of %s holds a receipt of trace %v", traceID, tid)
		}
		if typ, _ := r.Get("type"); typ == "session_metadata" {
			md = r
		}
	}
	if md == nil {
		h.t.Fatalf("pack of %s has no session_metadata receipt", traceID)
	}
	if c, _ := md.Get("session_complete"); c != complete {
		h.t.Fatalf("session_complete = %v, want %v", c, complete)
	}
	if e, _ := md.Get("ended_by"); e != endedBy {
		h.t.Fatalf("ended_by = %v, want %v", e, endedBy)
	}
	if tid, _ := md.Get("trace_id"); tid != traceID {
		h.t.Fatalf("session_metadata names trace %v, want %s", tid, traceID)
	}
	return recs
}

func readPackReceipts(t *testing.T, dir string) []*receipt.Receipt {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "receipt_pack.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*receipt.Receipt
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		v, err := canon.Decode(line)
		r, ok := v.(*receipt.Receipt)
		if err != nil || !ok {
			t.Fatalf("pack line %s: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func countType(recs []*receipt.Receipt, typ string) int {
	n := 0
	for _, r := range recs {
		if t, _ := r.Get("type"); t == typ {
			n++
		}
	}
	return n
}

// An id the server never issued, or one of a wrong shape, is 404 on every
// method (the client must initialize); GET and DELETE without an id are
// 400. Nothing is created for them.
func TestHTTPUnknownSessionIs404(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{})
	for _, id := range []string{"mcp-session-00000000000000000000000000000000", "mcp-session-3f1c2a3e-6a55-4c1e-9a51-1b2c3d4e5f60", "x", strings.Repeat("a", 300)} {
		for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
			var body io.Reader
			if m == http.MethodPost {
				body = strings.NewReader(toolsList)
			}
			code, b := h.raw(m, id, body)
			if code != http.StatusNotFound {
				t.Fatalf("%s with session %q: %d %s, want 404", m, id, code, b)
			}
			wantRPCError(t, b, "unknown or ended session")
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if code, b := h.raw(m, "", nil); code != http.StatusBadRequest {
			t.Fatalf("%s without a session: %d %s, want 400", m, code, b)
		}
	}
	// A legacy request without a session that is not initialize: 404 too.
	if code, b := h.raw(http.MethodPost, "", strings.NewReader(toolsList)); code != http.StatusNotFound {
		t.Fatalf("tools/list without a session: %d %s, want 404", code, b)
	}
	if n := len(h.srv.httpSess.Load().live); n != 0 {
		t.Fatalf("%d sessions were created by refused requests", n)
	}
}

// DELETE ends the session: its id is 404 from then on, and its trace is
// packed (with a session_metadata receipt saying the client ended it) in a
// pack that verifies.
func TestHTTPDeleteEndsSessionAndPacksItsTrace(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{})
	c := h.connect()
	id := c.tr.GetSessionId()
	trace := c.emit("a")
	if code, _ := h.raw(http.MethodPost, id, strings.NewReader(toolsList)); code != http.StatusOK {
		t.Fatalf("live session refused: %d", code)
	}
	if err := c.cli.Close(); err != nil { // sends DELETE and waits for it
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		var body io.Reader
		if m == http.MethodPost {
			body = strings.NewReader(toolsList)
		}
		if code, b := h.raw(m, id, body); code != http.StatusNotFound {
			t.Fatalf("%s after DELETE: %d %s, want 404", m, code, b)
		}
	}
	recs := h.checkSessionPack(trace, true, EndedByClient)
	// The emit-receipt call: its decision receipt and its mcp_tool_call.
	if len(recs) != 3 || countType(recs, "decision_v1") != 1 || countType(recs, "mcp_tool_call") != 1 {
		t.Fatalf("pack holds %d receipts: %v", len(recs), recs)
	}
	// A new session after the end gets a new trace.
	if again := h.connect().emit("a2"); again == trace {
		t.Fatalf("a new session reuses the ended session's trace %s", trace)
	}
}

// Two sessions, two traces, two packs: neither holds the other's calls.
func TestHTTPTwoSessionsTwoTracesTwoPacks(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{})
	a, b := h.connect(), h.connect()
	ta, tb := a.emit("a"), b.emit("b")
	b.emit("b")
	if ta == tb || ta == h.srv.TraceID() || tb == h.srv.TraceID() {
		t.Fatalf("sessions share a trace: %s %s (process %s)", ta, tb, h.srv.TraceID())
	}
	a.cli.Close()
	b.cli.Close()
	if ra := h.checkSessionPack(ta, true, EndedByClient); countType(ra, "decision_v1") != 1 {
		t.Fatalf("pack of a: %v", ra)
	}
	if rb := h.checkSessionPack(tb, true, EndedByClient); countType(rb, "decision_v1") != 2 {
		t.Fatalf("pack of b: %v", rb)
	}
}

// Past the session limit the least recently used session is ended and
// packed (marked incomplete, ended by the limit); its id is 404 from then
// on; the new session gets a new trace, and no trace is ever used twice.
func TestHTTPSessionLimitEndsAndPacksTheOldest(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{MaxSessions: 2})
	a := h.connect()
	ta := a.emit("a")
	b := h.connect()
	tb := b.emit("b")
	a.emit("a") // b is now the least recently used
	c := h.connect()
	h.srv.httpSess.Load().ending.Wait()
	recs := h.checkSessionPack(tb, false, EndedBySessionLimit)
	if countType(recs, "decision_v1") != 1 {
		t.Fatalf("pack of the evicted session: %v", recs)
	}
	tc := c.emit("c")
	seen := map[string]bool{}
	for _, tr := range []string{ta, tb, tc, h.srv.TraceID()} {
		if seen[tr] {
			t.Fatalf("trace %s used twice (a %s, b %s, c %s)", tr, ta, tb, tc)
		}
		seen[tr] = true
	}
	if code, body := h.raw(http.MethodPost, b.tr.GetSessionId(), strings.NewReader(toolsList)); code != http.StatusNotFound {
		t.Fatalf("evicted session: %d %s, want 404", code, body)
	}
	// The evicted session's trace got nothing after its pack: every
	// receipt of the trace is in the pack.
	trace, _, err := h.srv.store.Read(tb)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readPackReceipts(t, h.srv.sessionPackDir(tb))); n != len(trace) {
		t.Fatalf("trace %s has %d receipts, its pack %d", tb, len(trace), n)
	}
	// a and c are live and keep their own traces.
	if got := a.emit("a"); got != ta {
		t.Fatalf("a moved from %s to %s", ta, got)
	}
	if got := c.emit("c"); got != tc {
		t.Fatalf("c moved from %s to %s", tc, got)
	}
}

// Shutting the server down ends every live session and packs its trace,
// marked incomplete (the client did not end it); an open SSE stream does
// not hold the shutdown up.
func TestHTTPShutdownEndsAndPacksLiveSessions(t *testing.T) {
	t.Parallel()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	srv, err := New(Config{Roots: []string{root}, Home: t.TempDir(), Transport: TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.NewHTTPServer(HTTPOptions{}, nil)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	h := &httpEnv{t: t, srv: srv, url: "http://" + ln.Addr().String() + EndpointPath, root: root}
	c := h.connect()
	trace := c.emit("a")
	req, _ := http.NewRequest(http.MethodGet, h.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(server.HeaderKeySessionID, c.tr.GetSessionId())
	req.Header.Set(mcp.HeaderProtocolVersion, mcp.ProtocolVersion20251125)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown did not complete: %v", err)
	}
	srv.EndHTTPSessions() // returns once every pack is written
	if err := <-served; err != http.ErrServerClosed {
		t.Fatal(err)
	}
	recs := h.checkSessionPack(trace, false, EndedByShutdown)
	if countType(recs, "decision_v1") != 1 {
		t.Fatalf("pack: %v", recs)
	}
}

// Over HTTP one server serves many clients, so no client's roots/list
// answer changes the roots: a client that declares / as its root still
// cannot write outside the server's root.
func TestHTTPClientRootsDoNotWidenTheServersRoots(t *testing.T) {
	// No --root: the working directory is the root, and an in-process or
	// stdio client's roots would replace it.
	t.Chdir(t.TempDir())
	srv, err := New(Config{Home: t.TempDir(), Transport: TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPHandler(HTTPOptions{}))
	t.Cleanup(ts.Close)
	h := &httpEnv{t: t, srv: srv, url: ts.URL + EndpointPath, root: cwd()}
	outside, _ := filepath.EvalSymlinks(t.TempDir())
	// The GET stream is how the server's roots/list request reaches an
	// HTTP client.
	tr, err := transport.NewStreamableHTTP(h.url, transport.WithContinuousListening())
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithRootsHandler(fixedRoots{[]string{"/", outside}}), client.WithProtocolVersion(mcp.ProtocolVersion20251125))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "roots", Version: "1"}
	init.Params.Capabilities.Roots = &struct {
		ListChanged bool `json:"listChanged,omitempty"`
	}{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: h.srv, cli: c, root: h.root}
	e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	e.fails("bundle", map[string]any{"out": filepath.Join(outside, "p")}, "outside the allowed roots")
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written outside the root: %v", ents)
	}
	if got := h.srv.roots.list(); len(got) != 1 || got[0] != h.root {
		t.Fatalf("roots %v, want [%s]", got, h.root)
	}
}

// DELETE during a tool call: the call is cancelled and drained first, so
// its receipt is in the session's pack and nothing lands in the trace
// after it.
func TestHTTPDeleteDrainsInFlightCalls(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	bin := filepath.Join(dir, "assay")
	mustWrite(t, bin, []byte("#!/bin/sh\n: > '"+started+"'\nexec sleep 60\n"))
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.EvalSymlinks(t.TempDir())
	srv, err := New(Config{Roots: []string{root}, Home: t.TempDir(), Transport: TransportHTTP, AllowExec: true, Log: zerolog.Nop(),
		Env: append(os.Environ(), "ASSAY_BIN="+bin)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPHandler(HTTPOptions{}))
	t.Cleanup(ts.Close)
	h := &httpEnv{t: t, srv: srv, url: ts.URL + EndpointPath, root: root}
	c := h.connect()
	id := c.tr.GetSessionId()
	trace := c.emit("before")
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest(http.MethodPost, h.url, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"run-flow","arguments":{"flow":"try","apply":true}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set(mcp.HeaderProtocolVersion, mcp.ProtocolVersion20251125)
		req.Header.Set(server.HeaderKeySessionID, id)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	for i := 0; ; i++ { // wait until the step runs (no time is asserted)
		if _, err := os.Stat(started); err == nil {
			break
		}
		if i > 6000 {
			t.Fatal("the flow step never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, b := h.raw(http.MethodDelete, id, nil); code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", code, b)
	}
	recs := h.checkSessionPack(trace, true, EndedByClient)
	var flowCall bool
	for _, r := range recs {
		if n, _ := r.Get("tool_name"); n == "run-flow" {
			flowCall = true
		}
	}
	if !flowCall {
		t.Fatalf("the in-flight run-flow call is not in the pack: %v", recs)
	}
	<-done
	all, _, err := srv.store.Read(trace)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(recs) {
		t.Fatalf("trace has %d receipts, its pack %d: something was recorded after the pack", len(all), len(recs))
	}
}
