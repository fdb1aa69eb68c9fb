package main

// Regression tests from a first-user pass over the capture, scan, flow
// and MCP commands: each case failed before its fix.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// patch never writes outside the project it was pointed at: an
// --entrypoint leading out of it is refused (exit 3) and nothing changes,
// in the project or beside the outside file; an absolute path inside the
// project is accepted.
func TestQAPatchEntrypointConfined(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "proj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n"
	for _, p := range []string{filepath.Join(dir, "app.py"), filepath.Join(parent, "outside.py")} {
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, parent)
	for _, ep := range []string{"../outside.py", filepath.Join(parent, "outside.py"), "sub/../../outside.py", "."} {
		code, _, errs := scRun(t, "patch", dir, "--yes", "--entrypoint", ep)
		if code != 3 || !strings.Contains(errs, "outside the project") {
			t.Errorf("--entrypoint %s: exit %d, stderr %q", ep, code, errs)
		}
		if code, _, errs := scRun(t, "patch", dir, "--undo", "--entrypoint", ep); code != 3 {
			t.Errorf("--undo --entrypoint %s: exit %d, stderr %q", ep, code, errs)
		}
	}
	if got := snapshot(t, parent); !mapsEqual(got, before) {
		t.Fatalf("a refused patch changed files: %v", ptKeys(got))
	}
	code, _, errs := scRun(t, "patch", dir, "--yes", "--entrypoint", filepath.Join(dir, "app.py"))
	if code != 0 || !ptExists(filepath.Join(dir, "app.py.assay.bak")) {
		t.Fatalf("absolute entrypoint inside the project: exit %d %s", code, errs)
	}
}

// --undo --dry-run lists what it would restore and changes nothing.
func TestQAPatchUndoDryRun(t *testing.T) {
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	if code, _, errs := scRun(t, "patch", dir, "--yes"); code != 0 {
		t.Fatalf("patch: exit %d %s", code, errs)
	}
	patched := snapshot(t, dir)
	code, out, errs := scRun(t, "patch", dir, "--undo", "--dry-run")
	if code != 0 || !strings.Contains(out, "Would restore") || !strings.Contains(out, "no files changed") {
		t.Fatalf("undo dry run: exit %d\n%s%s", code, out, errs)
	}
	if got := snapshot(t, dir); !mapsEqual(got, patched) {
		t.Fatalf("--undo --dry-run changed files")
	}
	if code, _, errs := scRun(t, "patch", dir, "--undo"); code != 0 {
		t.Fatalf("undo: exit %d %s", code, errs)
	}
}
