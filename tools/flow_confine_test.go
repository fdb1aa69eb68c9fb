package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/flows"
)

// witness is an executable that stands in for the assay CLI: it appends
// its argv to a log, so a test sees exactly what a flow step ran (or that
// nothing ran at all).
func witness(t *testing.T) (logFile string, env []string) {
	t.Helper()
	dir := t.TempDir()
	logFile = filepath.Join(dir, "argv.log")
	bin := filepath.Join(dir, "assay")
	mustWrite(t, bin, []byte("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '"+logFile+"'\n"))
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return logFile, append(os.Environ(), flows.EnvAssayBin+"="+bin)
}

// pathParams lists every flow's path params.
func pathParams(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for _, n := range flows.Names() {
		f, err := flows.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Params {
			if p.Path {
				out[n] = append(out[n], p.Name)
			}
		}
	}
	return out
}

// With --allow-exec, a flow's path params are still confined to the roots:
// `..`, an absolute path outside, a symlink out of the root (absolute or
// relative) are each refused for every path param of every flow, in the
// plan and in apply, and nothing runs.
func TestRunFlowConfinesPathParams(t *testing.T) {
	t.Parallel()
	log, env := witness(t)
	e := newEnv(t, func(c *Config) { c.AllowExec, c.Env = true, env })
	outside, _ := filepath.EvalSymlinks(t.TempDir())
	if err := os.Symlink(outside, filepath.Join(e.root, "abslink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../../../"+strings.TrimPrefix(outside, "/"), filepath.Join(e.root, "rellink")); err != nil {
		t.Fatal(err)
	}
	// The audit flow's default pack, so its bundle param is checked too.
	mustWrite(t, filepath.Join(e.root, "proof_pack_x", "pack_manifest.json"), []byte("{}"))
	params := pathParams(t)
	if len(params) != len(flows.Names()) {
		t.Fatalf("path params %v: every flow takes one", params)
	}
	for flow, names := range params {
		for _, name := range names {
			for _, bad := range []string{"../../etc", "..", "/etc", outside, "abslink", "abslink/x", "rellink/new", "sub/../../x"} {
				for _, apply := range []bool{false, true} {
					args := map[string]any{"flow": flow, "apply": apply, "params": map[string]any{name: bad}}
					e.fails("run-flow", args, "outside the allowed roots")
				}
			}
		}
	}
	if b, err := os.ReadFile(log); err == nil {
		t.Fatalf("a refused flow ran steps:\n%s", b)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("something was written outside the root: %v", ents)
	}
}

// A path param inside the root reaches the steps resolved, relative to the
// flow's directory, and never as something a step would read as a flag.
func TestRunFlowPassesConfinedPaths(t *testing.T) {
	t.Parallel()
	log, env := witness(t)
	e := newEnv(t, func(c *Config) { c.AllowExec, c.Env = true, env })
	mustWrite(t, filepath.Join(e.root, "packs", "p", "pack_manifest.json"), []byte("{}"))
	if err := os.Symlink("packs", filepath.Join(e.root, "alias")); err != nil {
		t.Fatal(err)
	}
	var r FlowResult
	e.ok("run-flow", map[string]any{"flow": "audit", "apply": true, "params": map[string]any{"pack": "alias/./p", "bundle": "--yes"}}, &r)
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || lines[0] != "verify-pack packs/p --require-claim-pass" || lines[2] != "audit bundle packs/p -o ./--yes --force" {
		t.Fatalf("steps ran:\n%s", b)
	}
}
