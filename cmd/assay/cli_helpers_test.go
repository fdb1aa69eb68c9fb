package main

// Helpers shared by the CLI tests of every command.

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/assay-dev/assay/core/store"
)

// ckEnv gives a test its own ASSAY_HOME and working directory, handed to
// the CLI explicitly (ckRun runs it in them): nothing in the process
// changes, so the test may run in parallel with others. Paths the test
// passes are absolute (the working directory only places default outputs).
func ckEnv(t *testing.T) (home, dir string) {
	t.Helper()
	home, dir = t.TempDir(), t.TempDir()
	storeEnv(t, &ckState{env: &cliEnv{Vars: testVars(store.EnvHome + "=" + home), Dir: dir}})
	return home, dir
}

// ckProcessEnv is ckEnv for a test that needs the process itself in that
// environment (it starts children that inherit it, reads the store through
// the process's $ASSAY_HOME, or passes relative paths): it also sets
// $ASSAY_HOME and the working directory of the process, so it cannot run in
// parallel (t.Setenv and t.Chdir refuse to).
func ckProcessEnv(t *testing.T) (home, dir string) {
	t.Helper()
	home, dir = ckEnv(t)
	st, _ := testEnvs.Load(t)
	st.(*ckState).process = true
	st.(*ckState).env.Dir = "" // the process's working directory, wherever the test moves it
	t.Setenv(store.EnvHome, home)
	t.Setenv(store.EnvTrace, "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Chdir(dir)
	return home, dir
}

// ckState is what ckEnv gave a test.
type ckState struct {
	env     *cliEnv
	process bool // ckProcessEnv: the process is in env too
}

// testEnvs holds what ckEnv gave each test.
var testEnvs sync.Map // *testing.T -> *ckState

// ckEnvOf returns the environment ckEnv gave t, or the process's when it
// gave none (a test that has not been converted, or one that must set the
// process's environment).
func ckEnvOf(t *testing.T) *cliEnv {
	if st, ok := ckStateOf(t); ok {
		return st.env
	}
	return processEnv()
}

// ckStateOf returns what ckEnv gave t, or its nearest ancestor: a subtest
// runs in its parent's environment.
func ckStateOf(t *testing.T) (*ckState, bool) {
	if st, ok := testEnvs.Load(t); ok {
		return st.(*ckState), true
	}
	for name := t.Name(); strings.Contains(name, "/"); {
		name = name[:strings.LastIndex(name, "/")]
		if st, ok := testEnvNames.Load(name); ok {
			return st.(*ckState), true
		}
	}
	return nil, false
}

// storeEnv records what ckEnv gave t, by test and by name (for subtests).
func storeEnv(t *testing.T, st *ckState) {
	testEnvs.Store(t, st)
	testEnvNames.Store(t.Name(), st)
	t.Cleanup(func() { testEnvs.Delete(t); testEnvNames.Delete(t.Name()) })
}

// testEnvNames is testEnvs by test name.
var testEnvNames sync.Map // string -> *ckState

// ckHome is ckEnv with the assay home at home (which need not exist yet).
func ckHome(t *testing.T, home string) {
	t.Helper()
	storeEnv(t, &ckState{env: &cliEnv{Vars: testVars(store.EnvHome + "=" + home), Dir: t.TempDir()}})
}

// ckSetenv sets key=value in the environment ckEnv gave t (the CLI's and
// its children's); after ckProcessEnv, in the process's too.
func ckSetenv(t *testing.T, key, value string) {
	t.Helper()
	st, ok := ckStateOf(t)
	if !ok {
		t.Setenv(key, value) // no ckEnv: the CLI runs in the process's environment
		return
	}
	st.env.Vars = append(st.env.Vars, key+"="+value)
	if st.process {
		t.Setenv(key, value)
	}
}

// testVars is this process's environment without what would make a test
// depend on the machine or on another test (the assay home, the current
// trace, CI detection), plus extra.
func testVars(extra ...string) []string {
	drop := map[string]bool{store.EnvHome: true, store.EnvTrace: true, "GITHUB_ACTIONS": true, "CI": true,
		"ASSAY_BIN": true, "ASSAY_GATEWAY": true, "ASSAY_STORE_CONTENT": true, "ASSAY_LOG_TOKEN": true, "ASSAY_MCP_TOKEN": true}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	// A flow step that runs "assay" must not run this test binary (it
	// would run the whole suite again): it runs the binary assayBinary
	// built, once gfBinary set it in ASSAY_BIN, else fails at once.
	bin := "/nonexistent/call-gfBinary-in-the-test"
	if assayBinPath != "" && os.Getenv("ASSAY_BIN") == assayBinPath {
		bin = assayBinPath
	}
	out = append(out, "ASSAY_BIN="+bin)
	return append(out, extra...)
}

// ckRun runs the CLI in-process, in the environment ckEnv gave t.
func ckRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runIn(ckEnvOf(t), args, strings.NewReader(""), &out, &errb)
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
