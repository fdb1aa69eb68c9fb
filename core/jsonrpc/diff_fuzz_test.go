package jsonrpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/assay-dev/assay/core/jsonrpc"
)

// mcpGo is a real mcp-go server whose before-call hook records the
// tools/call it dispatches: the name and arguments mcp-go acts on.
type mcpGo struct {
	mu   sync.Mutex
	srv  *server.MCPServer
	got  *mcp.CallToolParams
	hits int
}

func newMCPGo() *mcpGo {
	g := &mcpGo{}
	hooks := &server.Hooks{}
	hooks.AddBeforeCallTool(func(_ context.Context, _ any, req *mcp.CallToolRequest) {
		p := req.Params
		g.got = &p
		g.hits++
	})
	g.srv = server.NewMCPServer("fuzz", "0", server.WithToolCapabilities(false), server.WithHooks(hooks),
		server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return g
}

// dispatch hands b to mcp-go and returns the tools/call it dispatched, if
// any.
func (g *mcpGo) dispatch(b []byte) (*mcp.CallToolParams, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got, g.hits = nil, 0
	g.srv.HandleMessage(context.Background(), json.RawMessage(b))
	return g.got, g.hits
}

// canonArgs is arguments as a comparable value ("null" and absent alike).
func canonArgs(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "null"
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return "!invalid " + string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// FuzzDifferentialMCPGo: random JSON-RPC bytes go through Decode and
// through mcp-go's own decoding. Whenever mcp-go would dispatch a
// tools/call — on what we forward (the re-encoding) or on the original
// bytes — our decoder must have seen that same tool (and arguments), or,
// for the original bytes, refused the message while naming that tool for
// the refusal's receipt.
func FuzzDifferentialMCPGo(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add([]byte(s))
	}
	g := newMCPGo()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := jsonrpc.Decode(b)
		orig, origHits := g.dispatch(b)
		if err != nil {
			var e *jsonrpc.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T", err)
			}
			if orig == nil {
				return
			}
			for _, r := range e.ToolCalls() {
				if r.Tool == orig.Name {
					return
				}
			}
			t.Fatalf("refused (%v), but mcp-go would have run tool %q and the refusal names %+v", err, orig.Name, e.ToolCalls())
		}
		tc, ok := m.ToolCall()
		enc := m.Encode()
		fwd, fwdHits := g.dispatch(enc)
		for _, c := range []struct {
			what string
			p    *mcp.CallToolParams
			hits int
		}{{"the forwarded re-encoding", fwd, fwdHits}, {"the original bytes", orig, origHits}} {
			if c.p == nil {
				continue
			}
			if c.hits != 1 {
				t.Fatalf("mcp-go dispatched %d calls from one message", c.hits)
			}
			if !ok {
				t.Fatalf("on %s mcp-go runs tool %q; our decoder saw no tools/call in %q", c.what, c.p.Name, b)
			}
			if c.p.Name != tc.Name {
				t.Fatalf("on %s mcp-go runs tool %q; our decoder saw %q in %q", c.what, c.p.Name, tc.Name, b)
			}
			if canonArgs(c.p.RawArguments) != canonArgs(tc.Arguments) {
				t.Fatalf("on %s mcp-go gets arguments %s; our decoder saw %s", c.what, c.p.RawArguments, tc.Arguments)
			}
		}
	})
}

var diffSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","arguments":{"path":"a"}}}`,
	`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"rm","arguments":{"p":"/"},"_meta":{"progressToken":1}}}`,
	`{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"Name":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","ARGUMENTS":{}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","n\u0061me":"rm"}}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"param\u017f\":{\"name\":\"rm\"}}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"ok\",\"tas\u212a\":{}}}",
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok"},"params":{"arguments":{}}}`,
	`{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"rm"}}`,
	`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"},"result":null}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"r\ud800m","arguments":{"a":1e400}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
}
