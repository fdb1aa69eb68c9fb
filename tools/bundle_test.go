package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/pack"
)

func TestBundleSessionPack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"d": 1}}, nil)
	e.ok("emit-receipt", map[string]any{"type": "capability_use"}, nil)
	var res BundleResult
	r := e.ok("bundle", map[string]any{}, &res)
	if res.Kind != "pack" || res.Pack.RunID != e.srv.TraceID() || res.EvidenceLost != 0 {
		t.Fatalf("result %+v", res)
	}
	// 2 emitted + 2 mcp_tool_call receipts before the bundle call itself.
	if res.Pack.NReceipts != 4 {
		t.Fatalf("pack has %d receipts, want 4", res.Pack.NReceipts)
	}
	if !strings.HasPrefix(res.Pack.Dir, e.root) {
		t.Fatalf("pack %s outside the root %s", res.Pack.Dir, e.root)
	}
	for _, f := range pack.KernelFiles {
		if _, err := os.Stat(filepath.Join(res.Pack.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	var link *mcp.ResourceLink
	for _, c := range r.Content {
		if l, ok := c.(mcp.ResourceLink); ok {
			link = &l
		}
	}
	if link == nil || link.URI != res.ResourceURI || !strings.HasPrefix(link.URI, "assay://pack/") {
		t.Fatalf("no resource link to the manifest in %v", r.Content)
	}
	// The link resolves to the manifest.
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = link.URI
	got, err := e.cli.ReadResource(context.Background(), rr)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(res.Pack.Dir, pack.FileManifest))
	if tc, ok := got.Contents[0].(mcp.TextResourceContents); !ok || tc.Text != string(want) {
		t.Fatalf("resource read %v", got.Contents)
	}
	// A second bundle gets its own directory.
	var res2 BundleResult
	e.ok("bundle", map[string]any{}, &res2)
	if res2.Pack.Dir == res.Pack.Dir || res2.Pack.NReceipts != 5 {
		t.Fatalf("second bundle %+v", res2)
	}
}

func TestBundleErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fails("bundle", map[string]any{}, "has no receipts yet")
	e2 := newEnv(t, nil)
	e2.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	outside := filepath.Join(t.TempDir(), "p")
	e2.fails("bundle", map[string]any{"out": outside}, "outside the allowed roots")
	e2.fails("bundle", map[string]any{"out": "../escape"}, "outside the allowed roots")
	existing := filepath.Join(e2.root, "taken")
	mustWrite(t, filepath.Join(existing, "x"), []byte("x"))
	e2.fails("bundle", map[string]any{"out": "taken"}, "already exists")
	// A symlink inside the root that points out of it is refused too.
	if err := os.Symlink(t.TempDir(), filepath.Join(e2.root, "link")); err != nil {
		t.Fatal(err)
	}
	e2.fails("bundle", map[string]any{"out": "link/p"}, "outside the allowed roots")
}

func TestPackResourcesListed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	var res BundleResult
	e.ok("bundle", map[string]any{"out": "packs/mine"}, &res)
	// A fresh server over the same root finds the pack on disk.
	e2 := newEnv(t, func(c *Config) { c.Roots = []string{e.root} })
	lr, err := e2.cli.ListResources(context.Background(), mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	uris := map[string]bool{}
	for _, r := range lr.Resources {
		uris[r.URI] = true
	}
	for _, f := range pack.KernelFiles {
		if !uris["assay://pack/mine/"+f] {
			t.Fatalf("resource for %s not listed: %v", f, uris)
		}
	}
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = "assay://pack/mine/" + pack.FileSignature
	got, err := e2.cli.ReadResource(context.Background(), rr)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Contents[0].(mcp.BlobResourceContents); !ok {
		t.Fatalf("signature not a blob: %T", got.Contents[0])
	}
	rr.Params.URI = "assay://pack/nope/" + pack.FileManifest
	if _, err := e2.cli.ReadResource(context.Background(), rr); err == nil {
		t.Fatal("reading an unknown pack succeeded")
	}
	rr.Params.URI = "assay://pack/mine/../../etc/passwd"
	if _, err := e2.cli.ReadResource(context.Background(), rr); err == nil {
		t.Fatal("reading a non-pack file succeeded")
	}
}

func TestBundleAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := sessionPack(t, e, "packs/p1")
	var ab BundleResult
	e.ok("bundle", map[string]any{"pack": "packs/p1"}, &ab)
	if ab.Kind != "audit_bundle" || ab.Bundle.PackID != b.Pack.PackID || filepath.Dir(ab.Bundle.Path) != filepath.Join(e.root, "packs") || !strings.HasSuffix(ab.Bundle.Path, ".tar.gz") {
		t.Fatalf("audit bundle %+v", ab)
	}
	// The bundle verifies through verify-pack (bundles are accepted there).
	var v VerifyResult
	e.ok("verify-pack", map[string]any{"path": ab.Bundle.Path}, &v)
	if v.Verdict != "PASS" || v.Pack.PackID != b.Pack.PackID {
		t.Fatalf("verify bundle %+v", v)
	}
	e.fails("bundle", map[string]any{"pack": "packs/p1"}, "already exists")
	e.fails("bundle", map[string]any{"pack": "packs/missing"}, "missing")
	// A tampered pack is refused and nothing is written.
	rp := filepath.Join(b.Pack.Dir, pack.FileReceipts)
	data, _ := os.ReadFile(rp)
	if err := os.WriteFile(rp, []byte(strings.Replace(string(data), `"step":1`, `"step":3`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.fails("bundle", map[string]any{"pack": "packs/p1", "out": "t.tar.gz"}, "")
	if _, err := os.Stat(filepath.Join(e.root, "t.tar.gz")); err == nil {
		t.Fatal("a tampered pack was bundled")
	}
}

// A trace line that is not a receipt is left out of the pack, loudly.
func TestBundleNamesBadTraceLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	p, err := e.srv.store.Path(e.srv.TraceID())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"cut short\n")
	f.Close()
	r := e.ok("bundle", map[string]any{}, nil)
	if !strings.Contains(text(r), "WARNING: 1 line(s)") {
		t.Fatalf("bad trace line not reported: %s", text(r))
	}
}
