package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/tlog/tsa/tsatest"
)

// TestWitnessTSA: `assay witness --tsa` against a local RFC 3161 authority
// writes witness_bundle.json at the pack root; the pack still verifies
// (a warning only) under verify-pack and the reference reading rules;
// verify-witness exits 0, 2 on a changed bundle, 1 without one.
func TestWitnessTSA(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	ts := tsatest.Start(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, ts.CAPEM, 0o644)
	p := copyTree(t, goldenPack)
	if code, o, e := ckRun(t, "witness", p, "--tsa", ts.URL, "--ca", ca); code != 0 || !strings.Contains(o, "timestamped ") || !strings.Contains(o, "Test TSA") {
		t.Fatalf("witness: exit %d %q %q", code, o, e)
	}
	if code, o, _ := ckRun(t, "verify-witness", p, "--ca", ca); code != 0 || !strings.HasPrefix(o, "VERIFIED  pack root f543e680") {
		t.Fatalf("verify-witness: exit %d %q", code, o)
	}
	if code, o, _ := ckRun(t, "verify-pack", p); code != 0 || !strings.Contains(o, "Unexpected top-level pack entry ignored: witness_bundle.json") {
		t.Fatalf("verify-pack with a bundle: exit %d\n%s", code, o)
	}
	if out, err := runPython(refVerify, p); err != nil || out != "PASS\n" {
		t.Fatalf("reference reading rules: %v %s", err, out)
	}
	if code, _, _ := ckRun(t, "verify-witness", copyTree(t, goldenPack), "--ca", ca); code != 1 {
		t.Fatalf("no bundle: exit %d", code)
	}
	d := copyTree(t, p)
	replaceIn(t, filepath.Join(d, "witness_bundle.json"), `"pack_root_sha256": "f`, `"pack_root_sha256": "e`)
	if code, _, e := ckRun(t, "verify-witness", d, "--ca", ca); code != 2 || !strings.Contains(e, "pack root") {
		t.Fatalf("changed bundle: exit %d %q", code, e)
	}
	ckOneLine(t, []string{"witness", p}, "--tsa")
	ckOneLine(t, []string{"verify-witness", p, "--ca", "/nonexistent.pem"}, "--ca")
}

func runPython(script, dir string) (string, error) {
	out, err := exec.Command("python3", script, dir).CombinedOutput()
	return string(out), err
}

// TestExplainPosture: explain states T0 for a bare pack, T1 logged once
// anchored, and the RFC 3161 timestamp once witnessed.
func TestExplainPosture(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	p := copyTree(t, goldenPack)
	if code, o, _ := ckRun(t, "explain", p); code != 0 || !strings.Contains(o, "T0 self-signed") {
		t.Fatalf("bare: exit %d\n%s", code, o)
	}
	ckRun(t, "anchor", p)
	ts := tsatest.Start(t)
	ckRun(t, "witness", p, "--tsa", ts.URL)
	code, o, _ := ckRun(t, "explain", p)
	if code != 0 || !strings.Contains(o, "T1 logged: entry 0 of transparency log assay.local/log-") || !strings.Contains(o, "Timestamped: the pack root existed at ") {
		t.Fatalf("anchored: exit %d\n%s", code, o)
	}
	var e struct {
		Posture struct {
			Level string `json:"level"`
		} `json:"posture"`
	}
	_, o, _ = ckRun(t, "explain", p, "--json")
	ckJSON(t, o, &e)
	if e.Posture.Level != "T1" {
		t.Fatalf("json posture %+v", e)
	}
}
