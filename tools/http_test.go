package tools

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"
)

// Over HTTP each handshake-era client has its own session and trace, so
// bundle packs only that client's calls.
func TestHTTPSessionsHaveTheirOwnTraces(t *testing.T) {
	t.Parallel()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	srv, err := New(Config{Roots: []string{root}, Home: t.TempDir(), Transport: TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPHandler(HTTPOptions{}))
	t.Cleanup(ts.Close) // after the clients' cleanups (LIFO)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	connect := func() *env {
		cli, err := client.NewStreamableHttpClient(ts.URL + EndpointPath)
		if err != nil {
			t.Fatal(err)
		}
		c := client.NewClient(cli.GetTransport(), client.WithProtocolVersion(mcp.ProtocolVersion20251125))
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		init.Params.ClientInfo = mcp.Implementation{Name: "h", Version: "1"}
		if _, err := c.Initialize(ctx, init); err != nil {
			t.Fatal(err)
		}
		return &env{t: t, srv: srv, cli: c, root: root}
	}
	a, b := connect(), connect()
	var ea, eb EmitResult
	a.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"who": "a"}}, &ea)
	b.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"who": "b"}}, &eb)
	b.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"who": "b"}}, nil)
	if ea.TraceID == eb.TraceID || ea.TraceID == srv.TraceID() {
		t.Fatalf("sessions share a trace: %s %s (process %s)", ea.TraceID, eb.TraceID, srv.TraceID())
	}
	var pa, pb BundleResult
	a.ok("bundle", map[string]any{"out": "pa"}, &pa)
	b.ok("bundle", map[string]any{"out": "pb"}, &pb)
	if pa.Pack.RunID != ea.TraceID || pa.Pack.NReceipts != 2 || pb.Pack.RunID != eb.TraceID || pb.Pack.NReceipts != 4 {
		t.Fatalf("packs a=%+v b=%+v", pa, pb)
	}
}
