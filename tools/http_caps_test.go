package tools

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/jsonrpc"
)

// bigCall is a tools/call of emit-receipt whose arguments make the body
// n bytes or more.
func bigCall(n int) []byte {
	return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"pad":%q}}}}`,
		strings.Repeat("x", n)))
}

// onlyReader hides Len so the client sends the body chunked, with no
// Content-Length to refuse up front.
type onlyReader struct{ io.Reader }

// A body over the cap is refused with 413 and a JSON-RPC error before any
// work: the tool never ran, the session's trace holds only the refusal's
// receipt (naming the tool requested), and the session stays usable. Both a declared Content-Length and a
// chunked body that turns out too long are caught.
func TestHTTPBodyOverCapIs413BeforeAnyWork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opt     HTTPOptions
		size    int
		chunked bool
	}{
		{"default cap, 5 MiB, Content-Length", HTTPOptions{}, 5 << 20, false},
		{"default cap, 5 MiB, chunked", HTTPOptions{}, 5 << 20, true},
		{"1 KiB cap, 2 KiB", HTTPOptions{MaxBody: 1 << 10}, 2 << 10, false},
		{"1 KiB cap, 2 KiB chunked", HTTPOptions{MaxBody: 1 << 10}, 2 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPEnv(t, tc.opt)
			c := h.connect()
			id := c.tr.GetSessionId()
			var body io.Reader = bytes.NewReader(bigCall(tc.size))
			if tc.chunked {
				body = onlyReader{body}
			}
			code, b := h.raw(http.MethodPost, id, body)
			if code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d %s, want 413", code, b)
			}
			wantRPCError(t, b, "request body exceeds")
			sess, ok := h.srv.httpSess.Load().lookup(id)
			if !ok {
				t.Fatal("the session ended")
			}
			wantOversizedReceipt(t, h.srv, sess.traceID, "emit-receipt")
			// Under the cap the same session works.
			if got := c.emit("small"); got != sess.traceID {
				t.Fatalf("trace %s, want %s", got, sess.traceID)
			}
		})
	}
}

// A sessionless (2026-07-28) request is capped the same way.
func TestHTTPBodyCapAppliesWithoutSession(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{MaxBody: 1 << 10})
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(bigCall(2<<10)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mcp.HeaderProtocolVersion, mcp.ProtocolVersion20260728)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d %s, want 413", resp.StatusCode, b)
	}
	wantOversizedReceipt(t, h.srv, h.srv.TraceID(), "emit-receipt")
}

// wantOversizedReceipt checks that the trace holds exactly one receipt: the
// denied mcp_tool_call of the oversized request, naming the tool its start
// asked for. The tool itself never ran (it would have left its own receipts).
func wantOversizedReceipt(t *testing.T, srv *Server, traceID, tool string) {
	t.Helper()
	rs, _, err := srv.store.Read(traceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("trace holds %d receipts, want only the refusal's (the tool must not run)", len(rs))
	}
	r := rs[0]
	if r.String("type") != "mcp_tool_call" || r.String("tool_name") != tool || r.String("outcome") != "denied" || !strings.HasPrefix(r.String("outcome_detail"), "oversized: ") {
		t.Fatalf("refusal receipt: type %q tool %q outcome %q detail %q", r.String("type"), r.String("tool_name"), r.String("outcome"), r.String("outcome_detail"))
	}
}

// A client that dribbles its headers is cut off by ReadHeaderTimeout: the
// server closes the connection without answering, and no request reaches
// the handler. (The timeout is short; nothing here measures time.)
func TestHTTPSlowlorisIsCutOffByTheHeaderTimeout(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{ReadHeaderTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(h.url, EndpointPath), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Never hang the test: if the server never cuts the client off, the
	// read below fails with a deadline error and the test fails.
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	stop := make(chan struct{})
	dribbled := make(chan error, 1)
	go func() {
		if _, err := io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
			dribbled <- err
			return
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				dribbled <- nil
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := fmt.Fprintf(conn, "X-Slow-%d: y\r\n", i); err != nil {
				dribbled <- err
				return
			}
		}
	}()
	n, err := conn.Read(make([]byte, 1024))
	close(stop)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server never cut off the slow client")
	}
	if n != 0 || err == nil {
		t.Fatalf("read %d bytes, err %v: want the connection closed without a response", n, err)
	}
	<-dribbled
	if n := len(h.srv.httpSess.Load().live); n != 0 {
		t.Fatalf("%d sessions made", n)
	}
}

// A client that sends its headers and then dribbles the body is cut off by
// ReadTimeout: the body read fails, the call is refused with a JSON-RPC
// error, and no tool runs.
func TestHTTPSlowBodyIsCutOffByTheReadTimeout(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{ReadTimeout: 300 * time.Millisecond})
	c := h.connect()
	id := c.tr.GetSessionId()
	sess, _ := h.srv.httpSess.Load().lookup(id)
	conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(h.url, EndpointPath), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	body := bigCall(10)
	fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n%s: %s\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
		server.HeaderKeySessionID, id, mcp.HeaderProtocolVersion, mcp.ProtocolVersion20251125, len(body))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(body)-1; i++ { // never the last byte
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
		}
		<-stop
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	close(stop)
	<-done
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d %s, want 400", resp.StatusCode, b)
		}
		wantRPCError(t, b, "cannot read the request body")
	} else {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server never cut off the slow body")
		}
	}
	if _, found, _ := h.srv.store.Find(sess.traceID); found {
		t.Fatal("the cut-off call left receipts: a tool ran")
	}
}

// ReadTimeout and IdleTimeout do not cut the long-lived SSE stream (GET):
// a notification sent well after both have passed still reaches it.
func TestHTTPSSEStreamOutlivesTheReadTimeouts(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{ReadTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond})
	c := h.connect()
	id := c.tr.GetSessionId()
	req, _ := http.NewRequest(http.MethodGet, h.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(server.HeaderKeySessionID, id)
	req.Header.Set(mcp.HeaderProtocolVersion, mcp.ProtocolVersion20251125)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET stream: %d", resp.StatusCode)
	}
	time.Sleep(500 * time.Millisecond) // five times both timeouts
	if err := h.srv.MCP.SendNotificationToSpecificClient(id, "notifications/message", map[string]any{"level": "info", "data": "still here"}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "still here") {
			return
		}
	}
	t.Fatalf("the SSE stream ended before the notification: %v", sc.Err())
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	ok := map[string]int64{"4194304": 4 << 20, "4MiB": 4 << 20, "4 mib": 4 << 20, "512KiB": 512 << 10, "1k": 1 << 10, "2MB": 2 << 20, "1GiB": 1 << 30, "10b": 10}
	for in, want := range ok {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "MiB", "4TiB", "1.5MiB", "2000GiB", "İMiB", "4 MiB MiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

// FuzzReadBody: whatever the body and the cap, ReadBody returns the body
// exactly when it fits, and a BodyTooLargeError (never a partial body)
// when it does not, with or without a Content-Length.
func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), uint16(64), false)
	f.Add([]byte(`{}`), uint16(1), true)
	f.Add(bytes.Repeat([]byte("a"), 300), uint16(299), false)
	f.Add([]byte{}, uint16(0), true)
	f.Fuzz(func(t *testing.T, body []byte, max uint16, chunked bool) {
		limit := int64(max) + 1
		var rd io.Reader = bytes.NewReader(body)
		if chunked {
			rd = onlyReader{rd}
		}
		r := httptest.NewRequest(http.MethodPost, "/mcp", rd)
		if chunked {
			r.ContentLength = -1
		}
		w := httptest.NewRecorder()
		got, err := ReadBody(w, r, limit)
		var tl *BodyTooLargeError
		switch {
		case int64(len(body)) <= limit:
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%d-byte body under a %d cap: %q, %v", len(body), limit, got, err)
			}
		case !errors.As(err, &tl) || got != nil || tl.Max != limit:
			t.Fatalf("%d-byte body over a %d cap: %d bytes, %v", len(body), limit, len(got), err)
		}
	})
}

// Every POST body goes through the one JSON-RPC envelope before mcp-go
// sees it: case variants, duplicates, unknown members, batches and frames
// of two messages are refused with 400 and a JSON-RPC error, no tool runs,
// and each refused tools/call leaves a receipt (outcome denied, as over stdio). mcp-go reads members
// case-insensitively with the last duplicate winning, so each of these
// would otherwise have run a tool.
func TestHTTPEnvelopeRefusesWhatMcpGoWouldMisread(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{})
	c := h.connect()
	id := c.tr.GetSessionId()
	sess, _ := h.srv.httpSess.Load().lookup(id)
	args := `{"type":"decision_v1","data":{"x":1}}`
	for name, body := range map[string]string{
		"Method":           `{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"emit-receipt","arguments":` + args + `}}`,
		"Params":           `{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"name":"emit-receipt","arguments":` + args + `}}`,
		"Name":             `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"emit-receipt","arguments":` + args + `}}`,
		"ARGUMENTS":        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"emit-receipt","ARGUMENTS":` + args + `}}`,
		"duplicate name":   `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"scan","name":"emit-receipt","arguments":` + args + `}}`,
		"duplicate params": `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"scan"},"params":{"name":"emit-receipt","arguments":` + args + `}}`,
		"unknown member":   `{"jsonrpc":"2.0","id":1,"method":"tools/call","extra":1,"params":{"name":"emit-receipt","arguments":` + args + `}}`,
		"batch":            `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"emit-receipt","arguments":` + args + `}}]`,
		"two messages":     `{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"emit-receipt","arguments":` + args + `}}`,
		"long s argumentſ": `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"emit-receipt","argument\u017f":` + args + `}}`,
		"not JSON":         `{"jsonrpc":"2.0","id":1,"method":"tools/call",`,
	} {
		code, b := h.raw(http.MethodPost, id, strings.NewReader(body))
		if code != http.StatusBadRequest {
			t.Fatalf("%s: status %d %s, want 400", name, code, b)
		}
		wantRPCError(t, b, "")
	}
	// Nothing ran (emit-receipt would have written a decision_v1), and
	// each refused tools/call left a receipt naming the tool mcp-go would
	// have run and why it was refused: every message above but the
	// non-JSON one.
	recs, _, err := h.srv.readTrace(sess.traceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 || countType(recs, "mcp_tool_call") != 10 {
		t.Fatalf("want 10 refusal receipts, got %d: %v", len(recs), recs)
	}
	reasons := map[string]bool{}
	for _, r := range recs {
		tool, _ := r.Get("tool_name")
		outcome, _ := r.Get("outcome")
		detail, _ := r.Get("outcome_detail")
		if tool != "emit-receipt" || outcome != "denied" || !strings.HasPrefix(fmt.Sprint(detail), "malformed (") {
			t.Fatalf("refusal receipt names %v, outcome %v (%v)", tool, outcome, detail)
		}
		reasons[strings.SplitN(fmt.Sprint(detail), ")", 2)[0]] = true
	}
	for _, want := range []string{"malformed (case_variant", "malformed (duplicate", "malformed (batch", "malformed (multiple", "malformed (unknown_member"} {
		if !reasons[want] {
			t.Fatalf("no refusal receipt says %s): %v", want, reasons)
		}
	}
	// The exact spelling goes through.
	code, b := h.raw(http.MethodPost, id, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"emit-receipt","arguments":`+args+`}}`))
	if code != http.StatusOK || !strings.Contains(string(b), "decision_v1") {
		t.Fatalf("exact message: %d %s", code, b)
	}
}

// FuzzHTTPPostBody: any POST body through the real handler. A body over
// the cap is 413; one the envelope refuses is 400 with the envelope's
// JSON-RPC error, and no tool runs for it (the session's trace grows by
// exactly one refusal receipt per requested tools/call); the handler
// never panics.
func FuzzHTTPPostBody(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{}}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"emit-receipt","arguments":{"type":"decision_v1","data":{}}}}`))
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"} {"jsonrpc":"2.0","id":2,"method":"ping"}`))
	f.Add(bytes.Repeat([]byte(" "), 5000))
	root := f.TempDir()
	srv, err := New(Config{Roots: []string{root}, Home: f.TempDir(), Transport: TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		f.Fatal(err)
	}
	const maxBody = 4 << 10
	hd := srv.HTTPHandler(HTTPOptions{MaxBody: maxBody})
	id := srv.httpSess.Load().Generate()
	sess, _ := srv.httpSess.Load().lookup(id)
	count := func() int {
		recs, _, _ := srv.readTrace(sess.traceID)
		return len(recs)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := count()
		r := httptest.NewRequest(http.MethodPost, EndpointPath, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json, text/event-stream")
		r.Header.Set(mcp.HeaderProtocolVersion, mcp.ProtocolVersion20251125)
		r.Header.Set(server.HeaderKeySessionID, id)
		w := httptest.NewRecorder()
		hd.ServeHTTP(w, r)
		if len(body) > maxBody {
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d-byte body: status %d", len(body), w.Code)
			}
			return
		}
		if _, err := jsonrpc.Decode(body); err != nil {
			var je *jsonrpc.Error
			if !errors.As(err, &je) {
				t.Fatalf("Decode error %T %v", err, err)
			}
			if w.Code != http.StatusBadRequest || strings.TrimSpace(w.Body.String()) != string(je.Response()) {
				t.Fatalf("refused body %q: status %d %s", body, w.Code, w.Body)
			}
			// Only the refusal receipts were added: no tool ran.
			if after := count(); after != before+len(je.ToolCalls()) {
				t.Fatalf("refused body %q: %d -> %d receipts for %d refused calls", body, before, after, len(je.ToolCalls()))
			}
		}
	})
}

// A tools/call that no session can serve — sent with no Mcp-Session-Id
// (before any initialize) or with an unknown one — is refused, never run,
// and leaves a denied receipt naming the tool in the process's trace.
func TestHTTPCallWithoutSessionIsRefusedAndReceipted(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{})
	call := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"step":1}}}}`
	code, b := h.raw(http.MethodPost, "", strings.NewReader(call))
	if code != http.StatusBadRequest {
		t.Fatalf("tools/call without a session: %d %s, want 400", code, b)
	}
	wantRPCError(t, b, "before initialize")
	if !strings.Contains(string(b), `"id":7`) {
		t.Fatalf("the error does not answer the request's id: %s", b)
	}
	code, b = h.raw(http.MethodPost, "mcp-session-00000000000000000000000000000000", strings.NewReader(call))
	if code != http.StatusNotFound {
		t.Fatalf("tools/call with an unknown session: %d %s, want 404", code, b)
	}
	rs, _, err := h.srv.store.Read(h.srv.TraceID())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("process trace holds %d receipts, want the two refusals only (the tool must not run)", len(rs))
	}
	for i, want := range []string{"before_initialize: ", "unknown_session: "} {
		r := rs[i]
		if r.String("type") != "mcp_tool_call" || r.String("tool_name") != "emit-receipt" || r.String("outcome") != "denied" || !strings.HasPrefix(r.String("outcome_detail"), want) {
			t.Fatalf("refusal %d: type %q tool %q outcome %q detail %q", i, r.String("type"), r.String("tool_name"), r.String("outcome"), r.String("outcome_detail"))
		}
	}
	if n := len(h.srv.httpSess.Load().live); n != 0 {
		t.Fatalf("%d sessions were created by refused requests", n)
	}
}

// A Mcp-Protocol-Version that only sorts after 2026-07-28 does not make a
// request sessionless: a tools/call with it and no session is refused as
// before initialize and never runs.
func TestHTTPUnknownEraHeaderNeedsASession(t *testing.T) {
	t.Parallel()
	h := newHTTPEnv(t, HTTPOptions{})
	call := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"step":1}}}}`
	req, _ := http.NewRequest(http.MethodPost, h.url, strings.NewReader(call))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(mcp.HeaderProtocolVersion, "9999-12-31")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "before initialize") {
		t.Fatalf("status %d %s, want 400 before initialize", resp.StatusCode, b)
	}
	rs, _, err := h.srv.store.Read(h.srv.TraceID())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].String("type") != "mcp_tool_call" {
		t.Fatalf("trace holds %d receipts, want only the refusal's (the tool must not run)", len(rs))
	}
}
