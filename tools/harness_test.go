package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/assay-dev/assay/core/receipt"
)

// env is one in-process server and its client, with a private assay home
// and root directory.
type env struct {
	t    *testing.T
	srv  *Server
	cli  *client.Client
	root string
	home string
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	// An empty environment: nothing of the machine's (CI variables, PATH,
	// HOME) reaches the server unless a test puts it in Env.
	cfg := Config{Roots: []string{root}, Home: home, Env: []string{}, Transport: TransportInProcess, Log: zerolog.Nop()}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := client.NewInProcessClient(srv.MCP)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "assay-test", Version: "1"}
	if _, err := cli.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return &env{t: t, srv: srv, cli: cli, root: root, home: home}
}

// call runs a tool; it fails the test on a protocol error only.
func (e *env) call(name string, args any) *mcp.CallToolResult {
	e.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.cli.CallTool(ctx, req)
	if err != nil {
		e.t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// ok runs a tool that must succeed and decodes its structured content.
func (e *env) ok(name string, args any, out any) *mcp.CallToolResult {
	e.t.Helper()
	res := e.call(name, args)
	if res.IsError {
		e.t.Fatalf("%s(%v): unexpected isError: %s", name, args, text(res))
	}
	if res.StructuredContent == nil {
		e.t.Fatalf("%s: no structuredContent", name)
	}
	// Servers MUST conform to the output schema they declare.
	b, _ := json.Marshal(res.StructuredContent)
	for _, tl := range Registry() {
		if tl.Name != name {
			continue
		}
		inst, err := jsv.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			e.t.Fatal(err)
		}
		if err := compileSchema(name+".output", tl.OutputSchema).Validate(inst); err != nil {
			e.t.Fatalf("%s: structured content does not match the output schema: %v\n%s", name, err, b)
		}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s: structured content %s: %v", name, b, err)
		}
	}
	return res
}

// fails runs a tool that must return isError with text containing want.
func (e *env) fails(name string, args any, want string) {
	e.t.Helper()
	res := e.call(name, args)
	if !res.IsError {
		e.t.Fatalf("%s(%v): want isError, got %s", name, args, text(res))
	}
	if !strings.Contains(text(res), want) {
		e.t.Fatalf("%s(%v): error %q does not mention %q", name, args, text(res), want)
	}
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// trace returns the session's receipts.
func (e *env) trace() []*receipt.Receipt {
	e.t.Helper()
	recs, probs, err := e.srv.store.Read(e.srv.TraceID())
	if err != nil {
		e.t.Fatal(err)
	}
	if len(probs) > 0 {
		e.t.Fatalf("trace has bad lines: %v", probs)
	}
	return recs
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
