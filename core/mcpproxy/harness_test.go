package mcpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/demo/mcpserver"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/tools/serve"
)

// The tests run a real MCP server behind the proxy: this test binary
// re-executed as core/demo/mcpserver with its fault tools. With
// MCPPROXY_TRANSCRIPT set, the server copies the bytes it reads and writes
// into that directory, so tests can compare both ends of the proxy.
const (
	envFixture    = "MCPPROXY_FIXTURE"
	envTranscript = "MCPPROXY_TRANSCRIPT"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envFixture) {
	case "1":
		os.Exit(serveFixture(false))
	case "assay-mcp":
		os.Exit(serveFixture(true))
	}
	os.Exit(m.Run())
}

// serveFixture serves the demo server with its fault tools, or our own MCP
// server (assay-mcp, rooted at $MCPPROXY_ROOT), on stdio.
func serveFixture(assayMCP bool) int {
	var in io.Reader = os.Stdin
	var out io.Writer = os.Stdout
	if dir := os.Getenv(envTranscript); dir != "" {
		fin, err1 := os.Create(filepath.Join(dir, "server_in"))
		fout, err2 := os.Create(filepath.Join(dir, "server_out"))
		if err1 != nil || err2 != nil {
			return 2
		}
		in = io.TeeReader(in, fin)
		out = io.MultiWriter(fout, out)
	}
	var err error
	if assayMCP {
		err = serve.Run(context.Background(), serve.Options{Roots: []string{os.Getenv("MCPPROXY_ROOT")}, LogLevel: "error", LogFormat: "json"}, in, out, io.Discard)
	} else {
		err = mcpserver.Serve(context.Background(), in, out, mcpserver.Options{Faults: true})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture:", err)
		return 1
	}
	return 0
}

// fixtureArgv is the command that starts a fixture server.
func fixtureArgv() []string { return []string{os.Args[0], "-test.run=^$"} }

// harness is a proxy session in progress, driven through real pipes.
type harness struct {
	t       *testing.T
	st      *store.Store
	traceID string
	dir     string // transcript directory

	toProxy   *os.File // the client's end: what it writes
	fromProxy *os.File // the client's end: what it reads
	sent      bytes.Buffer
	sentMu    sync.Mutex

	done   chan *Session
	cancel context.CancelFunc // interrupts the session, as SIGINT does in the CLI
}

// startProxy starts the fixture server and a proxy session in front of it.
func startProxy(t *testing.T, mod func(*Options)) *harness {
	return startProxyFor(t, "1", mod)
}

// startProxyFor starts a fixture server ("1": the demo server with its
// fault tools; "assay-mcp": our own MCP server rooted at $MCPPROXY_ROOT)
// and a proxy session in front of it.
func startProxyFor(t *testing.T, server string, mod func(*Options)) *harness {
	t.Helper()
	return startProxyCmd(t, fixtureArgv(), server, mod)
}

// startProxyCmd starts argv as the server, with the environment that makes
// the fixture serve ("1" or "assay-mcp"), and a proxy session in front.
func startProxyCmd(t *testing.T, argv []string, server string, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), done: make(chan *Session, 1)}
	h.st = store.Open(t.TempDir())
	sid := NewSessionID()
	h.traceID = NewTraceID(sid, time.Now())
	env := append(os.Environ(), envFixture+"="+server, envTranscript+"="+h.dir, store.EnvTrace+"="+h.traceID, store.EnvHome+"="+h.st.Home)
	up, err := StartStdio(StdioOptions{Argv: argv, Env: env, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	cr, cw, _ := os.Pipe() // client -> proxy
	pr, pw, _ := os.Pipe() // proxy -> client
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

// write sends raw bytes from the client.
func (h *harness) write(b []byte) {
	h.sentMu.Lock()
	h.sent.Write(b)
	h.sentMu.Unlock()
	if _, err := h.toProxy.Write(b); err != nil {
		h.t.Fatalf("client write: %v", err)
	}
}

// closeClient ends the client's input, as a client that quits does.
func (h *harness) closeClient() { h.toProxy.Close() }

// wait returns the session once the proxy has ended (failing after 15s: the
// proxy must never hang).
func (h *harness) wait() *Session {
	h.t.Helper()
	select {
	case s := <-h.done:
		return s
	case <-time.After(15 * time.Second):
		h.t.Fatal("the proxy did not end within 15s")
		return nil
	}
}

// receipts returns the trace's receipts by type.
func (h *harness) receipts(typ string) []*receipt.Receipt {
	h.t.Helper()
	recs, probs, err := h.st.Read(h.traceID)
	if err != nil || len(probs) > 0 {
		h.t.Fatalf("read trace: %v %v", err, probs)
	}
	var out []*receipt.Receipt
	for _, r := range recs {
		if t, _ := r.Get("type"); t == typ {
			out = append(out, r)
		}
	}
	return out
}

// lineClient is a minimal newline-delimited JSON-RPC client over the
// harness, for tests that need exact control of the bytes.
type lineClient struct {
	h    *harness
	msgs chan []byte
	raw  bytes.Buffer // everything read
	mu   sync.Mutex
}

func newLineClient(h *harness) *lineClient {
	c := &lineClient{h: h, msgs: make(chan []byte, 256)}
	go func() {
		// A client reads the server's (larger) results too.
		r := NewReaderLimit(io.TeeReader(h.fromProxy, lockedWriter{&c.mu, &c.raw}), DefaultMaxServerMessage)
		for {
			m, err := r.Next()
			if err != nil {
				close(c.msgs)
				return
			}
			c.msgs <- m.Body
		}
	}()
	return c
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (c *lineClient) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.h.t.Fatal(err)
	}
	c.h.write(append(b, '\n'))
}

// request sends a request and returns the message that answers it.
func (c *lineClient) request(id any, method string, params any) map[string]any {
	c.h.t.Helper()
	c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return c.await(id)
}

func (c *lineClient) await(id any) map[string]any {
	c.h.t.Helper()
	want, _ := json.Marshal(id)
	// Generous: a loaded CI machine moves a multi-MiB echo slowly; an
	// answer ends the wait as soon as it arrives.
	timeout := time.After(60 * time.Second)
	for {
		select {
		case b, ok := <-c.msgs:
			if !ok {
				c.h.t.Fatalf("the proxy closed before answering id %s", want)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				c.h.t.Fatalf("the client received a non-JSON message: %q", b)
			}
			got, _ := json.Marshal(m["id"])
			if string(got) == string(want) && m["method"] == nil {
				return m
			}
		case <-timeout:
			c.h.t.Fatalf("no answer to id %s within 60s", want)
		}
	}
}

// handshake initialises the session.
func (c *lineClient) handshake() {
	c.h.t.Helper()
	r := c.request(0, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}})
	if r["result"] == nil {
		c.h.t.Fatalf("initialize failed: %v", r)
	}
	c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
}

func (c *lineClient) call(id any, tool string, args any) map[string]any {
	c.h.t.Helper()
	return c.request(id, "tools/call", map[string]any{"name": tool, "arguments": args})
}

// errCode is the JSON-RPC error code of a response, or 0.
func errCode(m map[string]any) int {
	e, _ := m["error"].(map[string]any)
	if e == nil {
		return 0
	}
	f, _ := e["code"].(float64)
	return int(f)
}

// field reads a receipt field as a string ("" when absent or not a string).
func field(r *receipt.Receipt, k string) string {
	v, _ := r.Get(k)
	s, _ := v.(string)
	return s
}

func byTool(recs []*receipt.Receipt) map[string]*receipt.Receipt {
	m := map[string]*receipt.Receipt{}
	for _, r := range recs {
		m[field(r, "tool_name")] = r
	}
	return m
}

func writePolicy(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "assay.mcp-policy.yaml")
	if err := os.WriteFile(p, []byte(strings.TrimLeft(yaml, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
