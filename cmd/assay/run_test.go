package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// rtPackLines reads a pack's receipts.
func rtPackLines(t *testing.T, dir string) []*canon.Object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, pack.FileReceipts))
	if err != nil {
		t.Fatal(err)
	}
	var out []*canon.Object
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		v, err := canon.Decode(l)
		if err != nil {
			t.Fatalf("pack line %q: %v", l, err)
		}
		out = append(out, v.(*canon.Object))
	}
	return out
}

// rtVerify verifies dir as verify-pack does and returns its exit code and
// result.
func rtVerify(t *testing.T, dir string) (int, *verify.Result) {
	t.Helper()
	res, err := verify.Verify(dir, verify.Options{})
	if err != nil {
		t.Fatalf("verify %s: %v", dir, err)
	}
	return res.ExitCode, res
}

// rtSummary parses run --json stdout, which must be one JSON document.
func rtSummary(t *testing.T, stdout string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("run --json stdout is not JSON: %v: %q", err, stdout)
	}
	if dec.More() {
		t.Fatalf("run --json stdout holds more than one document: %q", stdout)
	}
	return doc
}

// rtEmitScript is a child that emits n model_call receipts with `assay
// emit` (this test binary re-run as the CLI, see TestHelperEmit) and then
// exits with exitCode.
func rtEmitScript(n int, exitCode int) []string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(`"$ASSAY_TEST_BIN" -test.run=TestHelperEmit >/dev/null || exit 99; `)
	}
	b.WriteString("exit " + strconv.Itoa(exitCode))
	return []string{"sh", "-c", b.String()}
}

// TestHelperEmit is not a test: run as a child with ASSAY_TEST_HELPER=emit,
// it is `assay emit model_call` (the test binary is the CLI).
func TestHelperEmit(t *testing.T) {
	if os.Getenv("ASSAY_TEST_HELPER") != "emit" {
		return
	}
	code := run([]string{"emit", "model_call", "provider=openai", "model_id=gpt-4o", "input_tokens=3", "output_tokens=5"}, strings.NewReader(""), os.Stdout, os.Stderr)
	os.Exit(code)
}

func rtChildEnv(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ckSetenv(t, "ASSAY_TEST_BIN", exe)
	ckSetenv(t, "ASSAY_TEST_HELPER", "emit")
}

var rtTSPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$`)

func TestRunExitCodeMatrix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		flags      []string
		receipts   int
		child      int
		wantCode   int
		wantPack   bool
		wantStatus string // --json status
	}{
		{"clean child with receipts", nil, 2, 0, 0, true, "ok"},
		{"failing child with receipts", nil, 2, 5, 5, true, "ok"},
		{"clean child, no receipts", nil, 0, 0, 1, false, "error"},
		{"failing child, no receipts", nil, 0, 7, 7, false, "error"},
		{"clean child, no receipts, allow-empty", []string{"--allow-empty"}, 0, 0, 0, true, "ok"},
		{"failing child, no receipts, allow-empty", []string{"--allow-empty"}, 0, 4, 4, true, "ok"},
	}
	for _, c := range cases {
		for _, asJSON := range []bool{false, true} {
			name := c.name
			if asJSON {
				name += " --json"
			}
			t.Run(name, func(t *testing.T) {
				_, dir := ckEnv(t)
				rtChildEnv(t)
				out := filepath.Join(dir, "pack")
				args := append([]string{"run", "-o", out}, c.flags...)
				if asJSON {
					args = append(args, "--json")
				}
				args = append(append(args, "--"), rtEmitScript(c.receipts, c.child)...)
				code, stdout, stderr := ckRun(t, args...)
				if code != c.wantCode {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.wantCode, stderr)
				}
				if got := rtDirExists(out); got != c.wantPack {
					t.Fatalf("pack dir exists=%v, want %v", got, c.wantPack)
				}
				if !strings.Contains(stderr, "assay run: command exited with code "+strconv.Itoa(c.child)) {
					t.Fatalf("stderr lacks the child's exit line:\n%s", stderr)
				}
				if asJSON {
					doc := rtSummary(t, stdout)
					if doc["status"] != c.wantStatus {
						t.Fatalf("status %v, want %s: %v", doc["status"], c.wantStatus, doc)
					}
					if c.wantStatus == "ok" && doc["exit_code"] != float64(c.child) {
						t.Fatalf("exit_code %v, want %d", doc["exit_code"], c.child)
					}
					if c.wantStatus == "error" && doc["error"] != "no_receipts_emitted" {
						t.Fatalf("error %v", doc["error"])
					}
				} else if c.wantPack && !strings.Contains(stdout, "Proof Pack Built") {
					t.Fatalf("no panel on stdout:\n%s", stdout)
				}
				if !c.wantPack {
					if !strings.Contains(stderr, "no receipts were emitted") || !strings.Contains(stderr, "--allow-empty") {
						t.Fatalf("no diagnostic:\n%s", stderr)
					}
					return
				}
				if n := len(rtPackLines(t, out)); n != c.receipts {
					t.Fatalf("pack holds %d receipts, want %d", n, c.receipts)
				}
				if vc, doc := rtVerify(t, out); vc != 0 {
					t.Fatalf("verify exit %d: %+v", vc, doc.Errors)
				}
			})
		}
	}
}

func rtDirExists(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }

func TestRunTextPanelAndKeyBootstrap(t *testing.T) {
	t.Parallel()
	home, dir := ckEnv(t)
	rtChildEnv(t)
	out := filepath.Join(dir, "p1")
	code, stdout, stderr := ckRun(t, append([]string{"run", "-o", out, "--"}, rtEmitScript(1, 0)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "assay run: generated signing key 'assay-local'") {
		t.Fatalf("no key generation line on stderr:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "keys", "assay-local.key")); err != nil {
		t.Fatalf("key not in ASSAY_HOME: %v", err)
	}
	for _, want := range []string{"Proof Pack Built", "Trace:", "Pack ID:", "Signer:    assay-local", "Child:     0 (the program's own exit code)", "Verdict:   PASS (verify-pack exits 0 on this pack)", "Exit:      0: the child succeeded", "Integrity: PASS", "Receipts:  1", "Output:", "receipt_pack.jsonl", "_unsigned/", "Next: assay verify-pack " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("panel lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Claims:") {
		t.Errorf("claims row shown without cards:\n%s", stdout)
	}
	for _, l := range []string{"assay run: trace=", "assay run: executing: sh -c"} {
		if !strings.Contains(stderr, l) || strings.Contains(stdout, l) {
			t.Errorf("log line %q must be on stderr only", l)
		}
	}
	// Second run: the key exists, so none is generated.
	_, _, stderr = ckRun(t, append([]string{"run", "-o", filepath.Join(dir, "p2"), "--"}, rtEmitScript(1, 0)...)...)
	if strings.Contains(stderr, "generated signing key") {
		t.Fatalf("key generated twice:\n%s", stderr)
	}
}

func TestRunJSONIsPureAndChildEnv(t *testing.T) {
	t.Parallel()
	home, dir := ckEnv(t)
	rtChildEnv(t)
	envFile := filepath.Join(dir, "env.txt")
	out := filepath.Join(dir, "pack")
	script := `echo "child says hi"; printf '%s\n%s\n' "$ASSAY_TRACE_ID" "$ASSAY_HOME" > ` + envFile + `; "$ASSAY_TEST_BIN" -test.run=TestHelperEmit`
	code, stdout, stderr := ckRun(t, "run", "--json", "-o", out, "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	doc := rtSummary(t, stdout)
	for _, k := range []string{"command", "status", "exit_code", "trace_id", "pack_id", "pack_root_sha256", "signer_id", "output_dir", "receipt_integrity", "claim_check", "n_receipts"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q: %v", k, doc)
		}
	}
	if doc["command"] != "run" || doc["n_receipts"] != float64(1) || doc["receipt_integrity"] != "PASS" || doc["claim_check"] != "N/A" || doc["output_dir"] != out {
		t.Fatalf("summary %v", doc)
	}
	if !strings.Contains(stderr, "child says hi") {
		t.Fatalf("child stdout not passed to stderr in --json mode:\n%s", stderr)
	}
	b, _ := os.ReadFile(envFile)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != doc["trace_id"] || lines[1] != home || !filepath.IsAbs(lines[1]) {
		t.Fatalf("child env %q; trace %v home %s", lines, doc["trace_id"], home)
	}
	// The manifest names the trace as its run id.
	var man map[string]any
	mb, _ := os.ReadFile(filepath.Join(out, pack.FileManifest))
	_ = json.Unmarshal(mb, &man)
	if att, _ := man["attestation"].(map[string]any); att["run_id"] != doc["trace_id"] || att["mode"] != "shadow" {
		t.Fatalf("attestation %v", man["attestation"])
	}
}

func TestRunModeAndCIBinding(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	rtChildEnv(t)
	ckSetenv(t, "GITHUB_ACTIONS", "true")
	ckSetenv(t, "GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
	ckSetenv(t, "GITHUB_REPOSITORY", "acme/agent")
	ckSetenv(t, "GITHUB_RUN_ID", "42")
	out := filepath.Join(dir, "pack")
	code, _, stderr := ckRun(t, append([]string{"run", "-m", "enforced", "-o", out, "--"}, rtEmitScript(1, 0)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var man map[string]any
	mb, _ := os.ReadFile(filepath.Join(out, pack.FileManifest))
	_ = json.Unmarshal(mb, &man)
	att, _ := man["attestation"].(map[string]any)
	ci, _ := att["ci_binding"].(map[string]any)
	if att["mode"] != "enforced" || ci["provider"] != "github_actions" || ci["commit_sha"] != "0123456789abcdef0123456789abcdef01234567" || ci["repo"] != "acme/agent" {
		t.Fatalf("attestation %v", att)
	}
}

func TestRunSignalKilledChildKeepsReceipts(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	rtChildEnv(t)
	out := filepath.Join(dir, "pack")
	// Three of five calls happen, then the child is SIGKILLed.
	script := `for i in 1 2 3; do "$ASSAY_TEST_BIN" -test.run=TestHelperEmit >/dev/null; done; kill -KILL $$; for i in 4 5; do "$ASSAY_TEST_BIN" -test.run=TestHelperEmit; done`
	code, _, stderr := ckRun(t, "run", "-o", out, "--", "sh", "-c", script)
	if code != 128+9 {
		t.Fatalf("exit %d, want 137; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "killed by signal SIGKILL") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	if n := len(rtPackLines(t, out)); n != 3 {
		t.Fatalf("pack holds %d receipts, want 3", n)
	}
	if vc, doc := rtVerify(t, out); vc != 0 {
		t.Fatalf("verify exit %d: %+v", vc, doc.Errors)
	}
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		setup func(t *testing.T, dir string)
		want  string // in the one stderr line
		kind  string // --json error
	}{
		{"unknown card", []string{"-c", "no_such_card"}, nil, `unknown card "no_such_card"`, "unknown_card"},
		{"card file missing", []string{"-c", "./missing.json"}, nil, "missing.json", "unknown_card"},
		{"bad mode", []string{"--mode", "yolo"}, nil, `invalid --mode "yolo"`, "bad_mode"},
		{"command not found", []string{"--", "assay-no-such-command-xyz"}, nil, "command not found: assay-no-such-command-xyz", "command_not_found"},
		{"missing command", []string{"--"}, nil, "no command to run", "no_command"},
		{"output exists", []string{"-o", "exists"}, func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "exists"), 0o755) }, "output directory already exists", "output_exists"},
		{"no key with --no-generate-key", []string{"--no-generate-key"}, nil, `no signing key "assay-local"`, "key_missing"},
		{"unknown flag", []string{"--frobnicate"}, nil, "unknown flag: --frobnicate", ""},
	}
	for _, c := range cases {
		for _, asJSON := range []bool{false, true} {
			name := c.name
			if asJSON {
				name += " --json"
			}
			t.Run(name, func(t *testing.T) {
				home, dir := ckEnv(t)
				if c.setup != nil {
					c.setup(t, dir)
				}
				marker := filepath.Join(dir, "child-ran")
				args := []string{"run"}
				if asJSON {
					args = append(args, "--json")
				}
				args = append(args, c.args...)
				if !slices.Contains(c.args, "--") {
					args = append(args, "--", "sh", "-c", "touch "+marker)
				}
				code, stdout, stderr := ckRun(t, args...)
				if code != 3 {
					t.Fatalf("exit %d, want 3; stderr %q", code, stderr)
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "assay: ") || !strings.Contains(lines[0], c.want) {
					t.Fatalf("want one line with %q, got %q", c.want, stderr)
				}
				if rtFileExists(marker) {
					t.Fatal("the child ran although the input was bad")
				}
				// Nothing half-written: no pack, no staging dir, no trace,
				// and no key generated for a run that never started.
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if e.Name() != "exists" {
						t.Fatalf("left %s behind in the working directory", e.Name())
					}
				}
				if sts, _ := store.Open(home).List(); len(sts) != 0 {
					t.Fatalf("traces written: %v", sts)
				}
				if rtFileExists(filepath.Join(home, "keys", "assay-local.key")) {
					t.Fatal("a key was generated for a run that never started")
				}
				if asJSON && c.kind != "" {
					doc := rtSummary(t, stdout)
					if doc["status"] != "error" || doc["error"] != c.kind || doc["exit_code"] != float64(3) {
						t.Fatalf("JSON error %v", doc)
					}
				}
			})
		}
	}
}

func rtFileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestRunCards(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	rtChildEnv(t)
	card := filepath.Join(dir, "card.json")
	os.WriteFile(card, []byte(`{"card_id": "needs_guardian", "name": "Guardian present", "claims": [
		{"claim_id": "has_guardian", "check": "receipt_type_present", "params": {"receipt_type": "guardian_verdict"}}]}`), 0o644)
	cases := []struct {
		name  string
		cards []string
		want  string
	}{
		{"built-in card met", []string{"-c", "receipt_completeness"}, "PASS"},
		{"card file not met", []string{"-c", card}, "FAIL"},
		{"both", []string{"-c", "receipt_completeness", "--run-card", card}, "FAIL"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "pack"+strconv.Itoa(i))
			args := append(append([]string{"run", "--json", "-o", out}, c.cards...), "--")
			code, stdout, stderr := ckRun(t, append(args, rtEmitScript(1, 0)...)...)
			// Claims never change run's exit code; verify-pack gates them.
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if doc := rtSummary(t, stdout); doc["claim_check"] != c.want {
				t.Fatalf("claim_check %v, want %s", doc["claim_check"], c.want)
			}
		})
	}
	// The text panel shows the claims row when cards were given.
	out := filepath.Join(dir, "text")
	_, stdout, _ := ckRun(t, append([]string{"run", "-c", "receipt_completeness", "-o", out, "--"}, rtEmitScript(1, 0)...)...)
	if !strings.Contains(stdout, "Claims:    PASS") {
		t.Fatalf("panel:\n%s", stdout)
	}
}

func TestEmit(t *testing.T) {
	t.Parallel()
	const trace = "trace_20260115T115900_1a2b3c4d"
	cases := []struct {
		name string
		args []string
		want map[string]string // field -> canonical JSON of the value
	}{
		{"key=value typing", []string{"guardian_verdict", "verdict=allow", "risk=0.12", "n=3", "ok=true", "none=null", `obj={"a":[1,2]}`, `quoted="7"`, "text=hello world", "empty="},
			map[string]string{"verdict": `"allow"`, "risk": "0.12", "n": "3", "ok": "true", "none": "null", "obj": `{"a":[1,2]}`, "quoted": `"7"`, "text": `"hello world"`, "empty": `""`}},
		{"--data then key=value wins", []string{"acme.decision", "--data", `{"approved": false, "by": "bot"}`, "approved=true"},
			map[string]string{"approved": "true", "by": `"bot"`, "type": `"acme.decision"`}},
		{"parent", []string{"capability_use", "--parent", "r_000000000001", "capability=file_write"},
			map[string]string{"parent_receipt_id": `"r_000000000001"`, "capability": `"file_write"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home, _ := ckEnv(t)
			ckSetenv(t, store.EnvTrace, trace)
			code, stdout, stderr := ckRun(t, append([]string{"emit", "--json"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			v, err := canon.Decode([]byte(strings.TrimSpace(stdout)))
			if err != nil {
				t.Fatalf("--json output %q: %v", stdout, err)
			}
			r := v.(*canon.Object)
			for k, want := range c.want {
				got, ok := r.Get(k)
				b, _ := canon.Marshal(got)
				if !ok || string(b) != want {
					t.Errorf("%s = %s, want %s", k, b, want)
				}
			}
			// The stored line is the printed receipt, stamped by the store.
			rs, _, err := store.Open(home).Read(trace)
			if err != nil || len(rs) != 1 {
				t.Fatalf("trace: %d receipts, %v", len(rs), err)
			}
			if rs[0].String("receipt_id") != r.String("receipt_id") || rs[0].String("_trace_id") != trace {
				t.Fatalf("stored %v", rs[0])
			}
		})
	}

	t.Run("prints the id and continues seq", func(t *testing.T) {
		home, _ := ckEnv(t)
		ckSetenv(t, store.EnvTrace, trace)
		var ids []string
		for i := 0; i < 3; i++ {
			code, stdout, stderr := ckRun(t, "emit", "model_call", "model_id=gpt-4o")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			id := strings.TrimSpace(stdout)
			if !regexp.MustCompile(`^r_[0-9a-f]{12}$`).MatchString(id) {
				t.Fatalf("printed %q", stdout)
			}
			ids = append(ids, id)
		}
		rs, _, _ := store.Open(home).Read(trace)
		for i, r := range rs {
			seq, _ := r.Get("seq")
			if r.String("receipt_id") != ids[i] || seq != canon.Number(strconv.Itoa(i)) {
				t.Fatalf("receipt %d: id %s seq %v", i, r.String("receipt_id"), seq)
			}
		}
	})

	bad := []struct {
		name  string
		trace string
		args  []string
		want  string
	}{
		{"no trace", "", []string{"model_call"}, "ASSAY_TRACE_ID is not set"},
		{"bad trace id", "../../etc", []string{"model_call"}, "not a valid trace id"},
		{"type not allowed", trace, []string{"loom.internal"}, "cannot go into a proof pack (use one of: ai_workflow"},
		{"plain unknown type", trace, []string{"whatever"}, "namespaced type like acme.tool_call"},
		{"bad --data", trace, []string{"model_call", "--data", "{nope"}, "--data is not valid JSON"},
		{"--data not an object", trace, []string{"model_call", "--data", "[1]"}, "--data must be a JSON object"},
		{"not key=value", trace, []string{"model_call", "verdict"}, `"verdict" is not a key=value field`},
		{"store stamp", trace, []string{"model_call", "_store_seq=9"}, "set by the store"},
		{"non-ASCII key", trace, []string{"model_call", "café=1"}, "not ASCII"},
		{"no type", trace, nil, "no receipt type given"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			home, _ := ckEnv(t)
			ckSetenv(t, store.EnvTrace, c.trace)
			code, stdout, stderr := ckRun(t, append([]string{"emit"}, c.args...)...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 3 || stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("exit %d stdout %q stderr %q; want 3 and %q", code, stdout, stderr, c.want)
			}
			if sts, _ := store.Open(home).List(); len(sts) != 0 {
				t.Fatalf("wrote %v", sts)
			}
		})
	}
}

// Flag parsing stops at the command word, as the reference's: '--' is
// recommended, not required, and later flags belong to the child.
func TestRunCommandWithoutDashDash(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	rtChildEnv(t)
	out := filepath.Join(dir, "pack")
	argsFile := filepath.Join(dir, "args")
	code, stdout, stderr := ckRun(t, "run", "-o", out, "sh", "-c", `printf '%s\n' "$@" > `+argsFile+`; "$ASSAY_TEST_BIN" -test.run=TestHelperEmit >/dev/null`, "child", "--json", "-o", "x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Proof Pack Built") {
		t.Fatalf("--json after the command reached assay:\n%s", stdout)
	}
	b, _ := os.ReadFile(argsFile)
	if string(b) != "--json\n-o\nx\n" {
		t.Fatalf("child got %q", b)
	}
}

// A child writing store lines itself (as non-Python programs may): a type
// the verifier would reject stops the build with exit 3 and keeps the
// trace; a line cut short by a crash is named on stderr and left out.
func TestRunRawStoreLines(t *testing.T) {
	t.Parallel()
	appendLine := func(line string) string {
		return `d="$ASSAY_HOME/$(date -u +%F)"; mkdir -p "$d"; printf '%s\n' '` + line + `' >> "$d/$ASSAY_TRACE_ID.jsonl"; `
	}
	t.Run("disallowed type", func(t *testing.T) {
		home, dir := ckEnv(t)
		out := filepath.Join(dir, "pack")
		code, stdout, stderr := ckRun(t, "run", "--json", "-o", out, "--", "sh", "-c",
			appendLine(`{"receipt_id": "r_000000000001", "type": "loom.secret", "timestamp": "2026-01-15T11:59:00+00:00"}`))
		if code != 3 {
			t.Fatalf("exit %d, want 3: %s", code, stderr)
		}
		if !strings.Contains(stderr, "pack not built") || !strings.Contains(stderr, "assay proof-pack trace_") {
			t.Fatalf("stderr:\n%s", stderr)
		}
		doc := rtSummary(t, stdout)
		if doc["error"] != "pack_build_failed" || doc["trace_id"] == nil {
			t.Fatalf("JSON %v", doc)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 0 {
			t.Fatalf("left %v behind", ents)
		}
		if sts, _ := store.Open(home).List(); len(sts) != 1 || sts[0].TraceID != doc["trace_id"] {
			t.Fatalf("trace not kept: %v", sts)
		}
	})
	t.Run("torn last line", func(t *testing.T) {
		_, dir := ckEnv(t)
		rtChildEnv(t)
		out := filepath.Join(dir, "pack")
		script := `"$ASSAY_TEST_BIN" -test.run=TestHelperEmit >/dev/null; "$ASSAY_TEST_BIN" -test.run=TestHelperEmit >/dev/null; ` +
			appendLine(`{"receipt_id": "r_00000000000`) + "kill -KILL $$"
		code, _, stderr := ckRun(t, "run", "-o", out, "--", "sh", "-c", script)
		if code != 137 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "line 3 is not a receipt and is left out of the pack") {
			t.Fatalf("torn line not reported:\n%s", stderr)
		}
		if n := len(rtPackLines(t, out)); n != 2 {
			t.Fatalf("pack holds %d receipts, want 2", n)
		}
		if vc, res := rtVerify(t, out); vc != 0 {
			t.Fatalf("verify exit %d: %+v", vc, res.Errors)
		}
	})
	t.Run("lost evidence is not exit 0", func(t *testing.T) {
		_, dir := ckEnv(t)
		rtChildEnv(t)
		out := filepath.Join(dir, "pack")
		script := `"$ASSAY_TEST_BIN" -test.run=TestHelperEmit >/dev/null; ` + appendLine(`{"receipt_id": "r_00000000000`)
		code, stdout, stderr := ckRun(t, "run", "--json", "-o", out, "--", "sh", "-c", script)
		var doc map[string]any
		ckJSON(t, stdout, &doc)
		if code != 1 || doc["evidence_lost"] != float64(1) || !strings.Contains(stderr, "receipt(s) of this run were lost") {
			t.Fatalf("exit %d doc %v stderr %s", code, doc, stderr)
		}
		if vc, _ := rtVerify(t, out); vc != 0 {
			t.Fatalf("the pack of what was kept must still verify: exit %d", vc)
		}
	})
}
