package main

// Regression tests from a first-user pass over the capture, scan, flow
// and MCP commands: each case failed before its fix.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/store"
)

// patch never writes outside the project it was pointed at: an
// --entrypoint leading out of it is refused (exit 3) and nothing changes,
// in the project or beside the outside file; an absolute path inside the
// project is accepted.
func TestQAPatchEntrypointConfined(t *testing.T) {
	t.Parallel()
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
		code, _, errs := ckRun(t, "patch", dir, "--yes", "--entrypoint", ep)
		if code != 3 || !strings.Contains(errs, "outside the project") {
			t.Errorf("--entrypoint %s: exit %d, stderr %q", ep, code, errs)
		}
		if code, _, errs := ckRun(t, "patch", dir, "--undo", "--entrypoint", ep); code != 3 {
			t.Errorf("--undo --entrypoint %s: exit %d, stderr %q", ep, code, errs)
		}
	}
	if got := snapshot(t, parent); !mapsEqual(got, before) {
		t.Fatalf("a refused patch changed files: %v", ptKeys(got))
	}
	code, _, errs := ckRun(t, "patch", dir, "--yes", "--entrypoint", filepath.Join(dir, "app.py"))
	if code != 0 || !ptExists(filepath.Join(dir, "app.py.assay.bak")) {
		t.Fatalf("absolute entrypoint inside the project: exit %d %s", code, errs)
	}
}

// --undo --dry-run lists what it would restore and changes nothing.
func TestQAPatchUndoDryRun(t *testing.T) {
	t.Parallel()
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	if code, _, errs := ckRun(t, "patch", dir, "--yes"); code != 0 {
		t.Fatalf("patch: exit %d %s", code, errs)
	}
	patched := snapshot(t, dir)
	code, out, errs := ckRun(t, "patch", dir, "--undo", "--dry-run")
	if code != 0 || !strings.Contains(out, "Would restore") || !strings.Contains(out, "no files changed") {
		t.Fatalf("undo dry run: exit %d\n%s%s", code, out, errs)
	}
	if got := snapshot(t, dir); !mapsEqual(got, patched) {
		t.Fatalf("--undo --dry-run changed files")
	}
	if code, _, errs := ckRun(t, "patch", dir, "--undo"); code != 0 {
		t.Fatalf("undo: exit %d %s", code, errs)
	}
}

// emit refuses fields that would make the pack's receipt integrity FAIL
// (a repeated, empty or non-string receipt_id, an unparseable timestamp)
// or that cannot be canonicalized (1e400), with one line naming the field
// and exit 3; nothing is appended. A run whose trace holds such a receipt
// anyway (written by another emitter) warns on stderr.
func TestQAEmitRefusesIntegrityBreakers(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	ckHome(t, home)
	ckSetenv(t, "ASSAY_TRACE_ID", "trace_20260115T115900_1a2b3c4d")
	if code, _, errs := ckRun(t, "emit", "capability_use", "receipt_id=r_dup"); code != 0 {
		t.Fatalf("first emit: exit %d %s", code, errs)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"receipt_id=r_dup"}, `receipt_id "r_dup" is already in trace`},
		{[]string{`receipt_id=""`}, "receipt_id must be a non-empty string"},
		{[]string{"receipt_id=5"}, "receipt_id must be a non-empty string"},
		{[]string{"timestamp=yesterday"}, `timestamp "yesterday" is not a valid time`},
		{[]string{"--data", `{"timestamp": 12}`}, "timestamp 12 is not a valid time"},
		{[]string{`nested={"a":[1,1e400]}`}, `field "nested.a[1]" cannot go into a receipt`},
		{[]string{"api_key=sk-abcdefghijklmnopqrstuvwxyz123"}, `field "api_key" looks like an API key or token`},
		{[]string{`cfg={"h":["Bearer abcdefghijkl"]}`}, `field "cfg.h[0]" looks like an API key or token`},
	} {
		code, out, errs := ckRun(t, append([]string{"emit", "capability_use"}, tc.args...)...)
		if code != 3 || !strings.Contains(errs, tc.msg) || out != "" || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "not written: receipt not written") {
			t.Errorf("emit %v: exit %d, stdout %q, stderr %q (want %q)", tc.args, code, out, errs, tc.msg)
		}
	}
	if code, _, errs := ckRun(t, "emit", "capability_use", "timestamp=2026-01-15T11:59:00.123456+00:00", "receipt_id=r_other"); code != 0 {
		t.Fatalf("valid explicit fields: exit %d %s", code, errs)
	}
	var n int
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".jsonl") {
			b, _ := os.ReadFile(p)
			n += strings.Count(string(b), "\n")
		}
		return nil
	})
	if n != 2 {
		t.Fatalf("trace holds %d receipts, want 2 (refused emits must append nothing)", n)
	}
}

// A trace holding receipts that break integrity (here a repeated id,
// appended by a foreign emitter) still becomes a pack, and run says so on
// stderr instead of printing only a red FAIL in the panel.
func TestQARunWarnsOnIntegrityFail(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	ckHome(t, home)
	out := filepath.Join(t.TempDir(), "pack")
	line := `{"receipt_id":"r_same","type":"capability_use","timestamp":"2026-01-15T11:59:00.123456+00:00","schema_version":"3.0","seq":0}`
	script := `d="$ASSAY_HOME/$(date -u +%Y-%m-%d)"; mkdir -p "$d"; printf '%s\n%s\n' '` + line + `' '` + line + `' >> "$d/$ASSAY_TRACE_ID.jsonl"`
	code, stdout, errs := ckRun(t, "run", "-o", out, "--", "sh", "-c", script)
	if code != 0 || !strings.Contains(stdout, "FAIL") {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, errs)
	}
	if !strings.Contains(errs, "WARNING: receipt integrity FAIL") {
		t.Fatalf("no integrity warning on stderr:\n%s", errs)
	}
}

// A typo in a subcommand of a group (mcp, key, lock, ...) is bad input
// (exit 3, one line pointing at that group's help), not the group's help
// with exit 0; cobra's argument errors get exactly one fix, naming the
// command that refused them.
func TestQAUnknownSubcommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mcp", "serv"}, `unknown command "serv" for "assay mcp" (did you mean serve? see 'assay mcp --help')`},
		{[]string{"key", "lst"}, `unknown command "lst" for "assay key" (did you mean list? see 'assay key --help')`},
		{[]string{"scan", ".", "extra"}, `accepts at most 1 arg(s), received 2 (see 'assay scan --help')`},
		{[]string{"gateway", "extra"}, `(see 'assay gateway --help')`},
		{[]string{"bogus"}, `unknown command "bogus" for "assay" (see 'assay --help')`},
		{[]string{"emit"}, `no receipt type given (give the type first, e.g. assay emit guardian_verdict verdict=allow)`},
	} {
		code, out, errs := ckRun(t, tc.args...)
		if code != 3 || out != "" || !strings.Contains(errs, tc.want) || strings.Count(errs, "(see ") != strings.Count(tc.want, "(see ") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errs)
		}
	}
	if code, out, _ := ckRun(t, "mcp"); code != 0 || !strings.Contains(out, "serve") {
		t.Errorf("assay mcp alone: exit %d, want its help", code)
	}
}

// "assay scan --report out.html" with the path left out writes the report
// for "." instead of failing with "Directory not found: out.html"; a
// contract or report target that is a directory is bad input (exit 3)
// named before anything is scanned, not exit 2 with a temp file's name.
func TestQAScanReportFileAlone(t *testing.T) {
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	t.Chdir(dir)
	code, out, errs := ckRun(t, "scan", "--report", "out.html")
	if code != 0 || !ptExists(filepath.Join(dir, "out.html")) || !strings.Contains(out, "Evidence gap report written: out.html") {
		t.Fatalf("scan --report out.html: exit %d\n%s%s", code, out, errs)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, args := range [][]string{{"scan", ".", "--emit-contract", "sub"}, {"scan", ".", "--report=sub"}} {
		code, _, errs := ckRun(t, args...)
		if code != 3 || !strings.Contains(errs, "sub is a directory") || strings.Contains(errs, ".tmp") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// run --gateway tells the child which gateway records it (ASSAY_GATEWAY,
// what doctor's DOCTOR_GATEWAY_001 checks the base URLs against).
func TestQARunGatewaySetsAssayGateway(t *testing.T) {
	t.Parallel()
	ckHome(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "pack")
	code, stdout, errs := ckRun(t, "run", "--gateway", "--allow-empty", "-o", out, "--", "sh", "-c", `echo "GW=$ASSAY_GATEWAY/openai BASE=$OPENAI_BASE_URL"`)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, errs)
	}
	var gw, base string
	for _, f := range strings.Fields(stdout) {
		if v, ok := strings.CutPrefix(f, "GW="); ok {
			gw = v
		}
		if v, ok := strings.CutPrefix(f, "BASE="); ok {
			base = v
		}
	}
	if !strings.HasPrefix(gw, "http://127.0.0.1:") || gw != base {
		t.Fatalf("child saw ASSAY_GATEWAY+/openai %q, OPENAI_BASE_URL %q", gw, base)
	}
}

// A program that cannot be executed is named as such, not "not found".
func TestQARunNotExecutable(t *testing.T) {
	t.Parallel()
	ckHome(t, t.TempDir())
	dir := t.TempDir()
	script := filepath.Join(dir, "app.py")
	os.WriteFile(script, []byte("print(1)\n"), 0o644)
	for _, tc := range []struct{ arg, want string }{
		{script, "app.py is not executable (make it executable (chmod +x"},
		{dir, "is a directory, not a command"},
		{"assay-no-such-cmd-qa", "command not found: assay-no-such-cmd-qa"},
	} {
		code, _, errs := ckRun(t, "run", "--", tc.arg)
		if code != 3 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("run -- %s: exit %d, stderr %q", tc.arg, code, errs)
		}
	}
}

// assay gateway refuses a store it cannot write before listening (it used
// to answer every call and lose every receipt).
func TestQAGatewayUnwritableStore(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	ckHome(t, f)
	code, out, errs := ckRun(t, "gateway")
	if code != 3 || out != "" || !strings.Contains(errs, "receipt store") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// ci init refuses an unknown card and a run command with shell operators
// before writing anything (the workflow would fail only in CI, or run part
// of the command outside assay run).
func TestQACIInitRefusesBadCardsAndOperators(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"ci", "init", "github", "--run-command", "python3 app.py", "--cards", "receipt_completeness,nope"},
		{"ci", "init", "github", "--run-command", "python3 app.py && echo hi"},
	} {
		code, out, errs := ckRun(t, args...)
		if code != 3 || out != "" || strings.Count(errs, "\n") != 1 || ptExists(".github") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if code, _, errs := ckRun(t, "ci", "init", "github", "--run-command", "python3 app.py", "--cards", "receipt_completeness,no_breakglass"); code != 0 {
		t.Fatalf("good ci init: exit %d %s", code, errs)
	}
}

// A receipt the builder refuses (a type packs cannot carry) leaves no pack
// and exit 3; the fix names the trace file to repair, since rebuilding the
// trace as is would fail the same way.
func TestQARunBadReceiptTypeNamesTraceFile(t *testing.T) {
	t.Parallel()
	ckHome(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "pack")
	line := `{"receipt_id":"r_1","type":"weird type","timestamp":"2026-01-15T11:59:00.123456+00:00"}`
	script := `d="$ASSAY_HOME/$(date -u +%Y-%m-%d)"; mkdir -p "$d"; echo '` + line + `' >> "$d/$ASSAY_TRACE_ID.jsonl"`
	code, _, errs := ckRun(t, "run", "-o", out, "--", "sh", "-c", script)
	last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
	if code != 3 || ptExists(out) || !strings.Contains(last, `type "weird type"`) || !strings.Contains(last, ".jsonl; fix or remove that receipt's line") {
		t.Fatalf("exit %d, last line %q", code, last)
	}
}

// A newline in a file name does not split a row of the scan table.
func TestQAScanTableQuotesControlChars(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n"
	if err := os.WriteFile(filepath.Join(dir, "new\nline.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := ckRun(t, "scan", dir)
	if code != 0 || !strings.Contains(out, `"new\nline.py":2`) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

// A patched file inside a package runs both as a script (python3
// pkg/main.py: the relative import alone raised ImportError) and as a
// module (python3 -m pkg.main), and each run records its call.
func TestQAPatchPackageFileRunsAsScriptAndModule(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "mypkg"), 0o755)
	os.WriteFile(filepath.Join(dir, "mypkg", "__init__.py"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "mypkg", "main.py"), []byte("from openai import OpenAI\nprint(OpenAI().chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'x'}]).choices[0].message.content)\n"), 0o644)
	if code, out, errs := ckRun(t, "patch", dir, "--yes"); code != 0 {
		t.Fatalf("patch: exit %d\n%s%s", code, out, errs)
	}
	for i, args := range [][]string{{"mypkg/main.py"}, {"-m", "mypkg.main"}} {
		home := t.TempDir()
		trace := fmt.Sprintf("trace_20260115T115900_0000000%d", i)
		cmd := exec.Command(py, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append(srv.Env(), "ASSAY_HOME="+home, "ASSAY_TRACE_ID="+trace, "PYTHONPATH="+filepath.Join(patchData, "sdk"), "PYTHONDONTWRITEBYTECODE=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Synthetic answer") {
			t.Fatalf("python3 %v: %v\n%s", args, err, out)
		}
		rs, _, err := store.Open(home).Read(trace)
		if err != nil || len(rs) != 1 || rs[0].String("type") != "model_call" {
			t.Fatalf("python3 %v: %d receipts, %v", args, len(rs), err)
		}
	}
}

// SIGHUP (a closed terminal or ssh session) stops the gateway gracefully
// like SIGINT: it used to kill it outright, losing in-flight receipts
// without a word.
func TestQAGatewayStopsGracefullyOnSIGHUP(t *testing.T) {
	t.Setenv("ASSAY_HOME", t.TempDir())
	mock := startMockForGateway(t)
	var out, errb syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"gateway", "--upstream-openai", mock + "/v1", "--trace", "trace_20260101T000000_00000002"}, strings.NewReader(""), &out, &errb)
	}()
	waitFor(t, &out, "ASSAY_TRACE_ID=")
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(errb.String(), "0 lost") {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not stop on SIGHUP")
	}
}

// run --store-content (the gateway's flag, now on run too) records the
// prompt and answer through the gateway and tells the child's Go
// middleware; without it only hashes are kept.
func TestQARunStoreContent(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ckHome(t, t.TempDir())
	ckSetenv(t, "ASSAY_UPSTREAM_OPENAI", srv.URL()+"/v1")
	ckSetenv(t, "OPENAI_API_KEY", "k")
	ckSetenv(t, "PYTHONPATH", filepath.Join(patchData, "sdk"))
	prog := `import os; from openai import OpenAI; print("ENV=" + os.environ.get("ASSAY_STORE_CONTENT", "")); OpenAI().chat.completions.create(model="m", messages=[{"role": "user", "content": "qa prompt"}])`
	for _, content := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "pack")
		args := []string{"run", "--gateway", "-o", out}
		if content {
			args = append(args, "--store-content")
		}
		code, stdout, errs := ckRun(t, append(args, "--", py, "-c", prog)...)
		if code != 0 {
			t.Fatalf("run: exit %d\n%s%s", code, stdout, errs)
		}
		b, _ := os.ReadFile(filepath.Join(out, "receipt_pack.jsonl"))
		if got := strings.Contains(string(b), `"input_content":[{"content":"qa prompt"`); got != content {
			t.Errorf("--store-content=%v: prompt in the receipt: %v\n%s", content, got, b)
		}
		if got := strings.Contains(stdout, "ENV=1"); got != content {
			t.Errorf("--store-content=%v: child saw ASSAY_STORE_CONTENT=1: %v", content, got)
		}
	}
}

// patch names a source file it could not parse (its calls stay
// uninstrumented) on stderr instead of reporting success quietly.
func TestQAPatchNamesUnparsedFiles(t *testing.T) {
	t.Parallel()
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	os.WriteFile(filepath.Join(dir, "broken.py"), []byte("def f(:\n  openai.chat.completions.create()\n"), 0o644)
	code, _, errs := ckRun(t, "patch", dir, "--yes")
	if code != 0 || !strings.Contains(errs, "broken.py not analysed (syntax error)") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// --json keeps its promise of one JSON document on stdout when a command
// fails on bad input before printing its own (flow, doctor, patch, ci
// init, emit, gateway, quickstart printed nothing); commands that print
// their own error document are not doubled.
func TestQAJSONErrorDocument(t *testing.T) {
	t.Parallel()
	ckHome(t, t.TempDir())
	ckSetenv(t, "ASSAY_TRACE_ID", "trace_20260115T115900_1a2b3c4d")
	for _, args := range [][]string{
		{"flow", "bogus", "--json"},
		{"doctor", "--profile", "x", "--json"},
		{"patch", "/nonexistent-qa", "--json"},
		{"ci", "init", "gitlab", "--json"},
		{"emit", "Bad Type", "--json"},
		{"gateway", "--addr", "bogus", "--json"},
		{"quickstart", "/nonexistent-qa", "--json"},
		{"run", "--json", "--", "assay-no-such-cmd-qa"},
		{"scan", "/nonexistent-qa", "--json"},
	} {
		code, out, errs := ckRun(t, args...)
		var doc map[string]any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&doc); err != nil || dec.More() || code != 3 || doc["status"] != "error" {
			t.Errorf("%v: exit %d, stdout %q (%v), stderr %q", args, code, out, err, errs)
		}
		if strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: stderr %q, want one line", args, errs)
		}
	}
	// Without --json nothing goes to stdout.
	if _, out, _ := ckRun(t, "flow", "bogus"); out != "" {
		t.Errorf("text mode stdout %q", out)
	}
}

// An --include that keeps no file (a bare directory name: patterns match
// file paths) says so on stderr instead of looking like a clean project.
func TestQAScanIncludeMatchedNothing(t *testing.T) {
	t.Parallel()
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	code, out, errs := ckRun(t, "scan", dir, "--include", "nosuchdir", "--json")
	if code != 0 || !strings.Contains(errs, "--include nosuchdir matched no source file") || !strings.HasPrefix(out, "{") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, _, errs := ckRun(t, "scan", dir, "--include", "*.py"); strings.Contains(errs, "matched no source file") {
		t.Fatalf("warned although files matched: %q", errs)
	}
}
