package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/pack"
)

// sessionPack records a few receipts and bundles them.
func sessionPack(t *testing.T, e *env, out string) BundleResult {
	t.Helper()
	e.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"step": 1}}, nil)
	var res BundleResult
	e.ok("bundle", map[string]any{"out": out}, &res)
	return res
}

func TestVerifyPack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := sessionPack(t, e, "p1")
	var v VerifyResult
	e.ok("verify-pack", map[string]any{"path": "p1"}, &v)
	if v.Verdict != "PASS" || v.ExitCode != 0 || v.ReceiptCount != b.Pack.NReceipts || v.Pack.PackID != b.Pack.PackID || v.ErrorCount != 0 {
		t.Fatalf("verify %+v", v)
	}
	if len(v.Proves) == 0 || len(v.DoesNotProve) == 0 {
		t.Fatalf("proves/does-not-prove empty: %+v", v)
	}
	if v.TypeCounts["mcp_tool_call"] != 1 {
		t.Fatalf("receipt types %+v", v.TypeCounts)
	}

	// Tampering is a verdict, not a tool failure.
	rp := filepath.Join(b.Pack.Dir, pack.FileReceipts)
	data, _ := os.ReadFile(rp)
	data = []byte(strings.Replace(string(data), `"step":1`, `"step":2`, 1))
	if err := os.WriteFile(rp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var tv VerifyResult
	e.ok("verify-pack", map[string]any{"path": b.Pack.Dir}, &tv)
	if tv.Verdict != "TAMPERED" || tv.ExitCode != 2 || tv.ErrorCount == 0 || len(tv.Errors) != tv.ErrorCount {
		t.Fatalf("tampered verify %+v", tv)
	}
}

func TestVerifyPackErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fails("verify-pack", map[string]any{"path": "nope"}, "nope")
	e.fails("verify-pack", map[string]any{"path": t.TempDir()}, "outside the allowed roots")
	e.fails("verify-pack", map[string]any{}, "path (required)")
	e.fails("verify-pack", map[string]any{"path": "x", "max_age_hours": 0}, "invalid arguments")
	e.fails("verify-pack", map[string]any{"path": "x", "min_coverage": 2}, "invalid arguments")
	e.fails("verify-pack", map[string]any{"path": ".", "lock": "/etc/passwd"}, "outside the allowed roots")
}

func TestExplainPack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := sessionPack(t, e, "p1")
	var x ExplainResult
	r := e.ok("explain-pack", map[string]any{"path": "p1"}, &x)
	if x.Verdict != "PASS" || x.PackID != b.Pack.PackID || x.Receipts != b.Pack.NReceipts {
		t.Fatalf("explain %+v", x)
	}
	if md := text(r); !strings.Contains(md, b.Pack.PackID) || !strings.Contains(md, "#") {
		t.Fatalf("text content is not the Markdown explanation: %q", md)
	}
	e.fails("explain-pack", map[string]any{"path": "missing"}, "missing")
	e.fails("explain-pack", map[string]any{"path": "/"}, "outside the allowed roots")
}

func TestDiffPacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := sessionPack(t, e, "a")
	b := sessionPack(t, e, "b")
	var d DiffResult
	e.ok("diff-packs", map[string]any{"a": "a", "b": "b", "max_errors": 0}, &d)
	if d.Status != "ok" || d.ExitCode != 0 || d.A.PackID != a.Pack.PackID || d.B.PackID != b.Pack.PackID {
		t.Fatalf("diff %+v", d)
	}
	if d.B.NReceipts != int64(b.Pack.NReceipts) || len(d.Gates) != 1 {
		t.Fatalf("diff %+v", d)
	}
	// A tampered pack is a verdict (exit 2), not a tool failure.
	rp := filepath.Join(b.Pack.Dir, pack.FileReceipts)
	data, _ := os.ReadFile(rp)
	if err := os.WriteFile(rp, []byte(strings.Replace(string(data), `"step":1`, `"step":9`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var dt DiffResult
	e.ok("diff-packs", map[string]any{"a": "a", "b": "b"}, &dt)
	if dt.ExitCode != 2 || dt.Status != "integrity_failed" {
		t.Fatalf("tampered diff %+v", dt)
	}
	e.fails("diff-packs", map[string]any{"a": "a", "b": "nope"}, "nope")
	e.fails("diff-packs", map[string]any{"a": "a", "b": "/tmp"}, "outside the allowed roots")
	e.fails("diff-packs", map[string]any{"a": "a"}, "b (required)")
}
