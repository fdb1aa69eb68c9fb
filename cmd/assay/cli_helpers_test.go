package main

// Helpers shared by the CLI tests of every command.

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/store"
)

// ckEnv gives a test its own ASSAY_HOME and working directory.
func ckEnv(t *testing.T) (home, dir string) {
	t.Helper()
	home, dir = t.TempDir(), t.TempDir()
	t.Setenv(store.EnvHome, home)
	t.Setenv(store.EnvTrace, "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Chdir(dir)
	return home, dir
}

// ckRun runs the CLI in-process.
func ckRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// ckOneLine asserts a bad-input outcome: exit 3, nothing on stdout and one
// "assay: ..." line on stderr containing want.
func ckOneLine(t *testing.T, args []string, want string) {
	t.Helper()
	code, out, errs := ckRun(t, args...)
	lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
	if code != 3 || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "assay: ") || !strings.Contains(errs, want) {
		t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 3 and one line containing %q", args, code, out, errs, want)
	}
}

// ckJSON decodes stdout that must be exactly one JSON document.
func ckJSON(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v: %q", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one document: %q", stdout)
	}
}

// copyDir copies the tree at src into dst (created if needed).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies src into a fresh temp dir and returns it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	copyDir(t, src, dst)
	return dst
}
