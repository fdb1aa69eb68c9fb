package tools

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"
)

type fixedRoots struct{ dirs []string }

func (f fixedRoots) ListRoots(context.Context, mcp.ListRootsRequest) (*mcp.ListRootsResult, error) {
	res := &mcp.ListRootsResult{}
	for _, d := range f.dirs {
		res.Roots = append(res.Roots, mcp.Root{URI: "file://" + d, Name: filepath.Base(d)})
	}
	return res, nil
}

// Without --root, the client's MCP roots confine paths; with --root, they
// are ignored.
func TestClientRoots(t *testing.T) {
	t.Parallel()
	clientRoot, _ := filepath.EvalSymlinks(t.TempDir())
	other, _ := filepath.EvalSymlinks(t.TempDir())
	for _, explicit := range []bool{false, true} {
		cfg := Config{Home: t.TempDir(), Transport: TransportInProcess, Log: zerolog.Nop()}
		if explicit {
			cfg.Roots = []string{other}
		}
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cli, err := client.NewInProcessClientWithOptions(srv.MCP,
			client.WithRootsHandler(fixedRoots{[]string{clientRoot}}),
			client.WithProtocolVersion(mcp.ProtocolVersion20251125))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := cli.Start(ctx); err != nil {
			t.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		init.Params.ClientInfo = mcp.Implementation{Name: "roots", Version: "1"}
		init.Params.Capabilities.Roots = &struct {
			ListChanged bool `json:"listChanged,omitempty"`
		}{}
		if _, err := cli.Initialize(ctx, init); err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, srv: srv, cli: cli}
		e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
		var b BundleResult
		if explicit {
			e.fails("bundle", map[string]any{"out": filepath.Join(clientRoot, "p")}, "outside the allowed roots")
			e.ok("bundle", map[string]any{"out": filepath.Join(other, "p")}, &b)
		} else {
			e.ok("bundle", map[string]any{"out": "p"}, &b)
			if b.Pack.Dir != filepath.Join(clientRoot, "p") {
				t.Fatalf("relative path resolved to %s, want under the client root %s", b.Pack.Dir, clientRoot)
			}
			e.fails("bundle", map[string]any{"out": filepath.Join(other, "p")}, "outside the allowed roots")
		}
		cancel()
		cli.Close()
	}
}
