package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rhysd/actionlint"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/flows"
)

// Tests of the guided commands: flow, doctor, ci init, quickstart, start.

// gfBinary is the built assay binary, named in ASSAY_BIN so that flows run
// it as their steps (so its callers cannot be parallel).
func gfBinary(t *testing.T) string {
	t.Helper()
	bin := assayBinary(t)
	t.Setenv(flows.EnvAssayBin, bin)
	return bin
}

// gfEnv gives the test a private assay home and a project dir, and clears
// the variables doctor reads.
func gfEnv(t *testing.T) (home, dir string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	t.Setenv("ASSAY_HOME", home)
	for _, k := range []string{"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "ASSAY_GATEWAY"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return home, t.TempDir()
}

// inDir runs f with the working directory set to dir.
func inDir(t *testing.T, dir string, f func()) {
	t.Helper()
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(old)
	f()
}

func TestQuickstartGuard(t *testing.T) {
	home, dir := gfEnv(t)
	os.MkdirAll(home, 0o700)
	t.Setenv("HOME", home)
	cases := []struct {
		name, path, msg string
	}{
		{"root", "/", "home or system directory"},
		{"home", home, "home or system directory"},
		{"missing", filepath.Join(dir, "nope"), "not a directory"},
	}
	for _, tc := range cases {
		code, out, errs := ckRun(t, "quickstart", tc.path)
		if code != 3 || !strings.Contains(errs, tc.msg) || out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q", tc.name, code, errs, out)
		}
	}
	// A tree with more than 10,000 Python files (created in parallel: it is
	// 10,001 files).
	big := filepath.Join(dir, "big")
	var wg sync.WaitGroup
	for d := 0; d <= flows.MaxQuickstartPyFiles/100; d++ {
		sub := filepath.Join(big, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d * 100; i < d*100+100 && i <= flows.MaxQuickstartPyFiles; i++ {
				if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("m%d.py", i)), nil, 0o644); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	code, _, errs := ckRun(t, "quickstart", big)
	if code != 3 || !strings.Contains(errs, "more than 10000 Python files") {
		t.Fatalf("big tree: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(big, "challenge_pack")); err == nil {
		t.Fatal("a refused quickstart wrote files")
	}
	// Exactly 10,000 passes the guard.
	os.Remove(filepath.Join(big, "d100", "m10000.py"))
	if err := flows.GuardDir(big, home); err != nil {
		t.Fatalf("10000 files refused: %v", err)
	}
	// --force skips the guards: quickstart runs in the big tree.
	os.WriteFile(filepath.Join(big, "d100", "m10000.py"), nil, 0o644)
	gfBinary(t)
	code, out, errs := ckRun(t, "quickstart", big, "--force", "--json")
	if code != 0 {
		t.Fatalf("--force: exit %d\n%s\n%s", code, out, errs)
	}
	var doc struct {
		Outcome flows.Outcome `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Outcome.Status != "ok" || len(doc.Outcome.Steps) != 4 {
		t.Fatalf("--force outcome: %v %s", err, out)
	}
	for _, f := range []string{"challenge_pack/good/pack_manifest.json", "challenge_pack/tampered/pack_manifest.json", flows.QuickstartReport} {
		if _, err := os.Stat(filepath.Join(big, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestStartCommands(t *testing.T) {
	_, dir := gfEnv(t)
	code, out, _ := ckRun(t, "start")
	if code != 0 || !strings.Contains(out, "assay try") || !strings.Contains(out, "assay flow adopt") {
		t.Fatalf("start: %d %s", code, out)
	}
	code, out, _ = ckRun(t, "start", "ci", "--json")
	var doc struct {
		Steps []startStep `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Steps) < 5 {
		t.Fatalf("start ci --json: %d %s", code, out)
	}
	cfg := filepath.Join(dir, "cfg", "mcp.json")
	code, out, _ = ckRun(t, "start", "mcp", "--write", "--root", dir, "-o", cfg, "--json")
	if code != 0 {
		t.Fatalf("start mcp --write: %d %s", code, out)
	}
	s, err := ciinit.ReadMCPConfig(cfg, ciinit.ClientClaude)
	if err != nil || s == nil || len(s.Roots()) != 1 || s.AllowExec() {
		t.Fatalf("config: %+v %v", s, err)
	}
	// A different entry needs --force.
	if code, _, errs := ckRun(t, "start", "mcp", "--write", "--root", dir, "--allow-exec", "-o", cfg); code != 3 || !strings.Contains(errs, "--force") {
		t.Fatalf("overwrite without --force: %d %s", code, errs)
	}
	if code, _, _ := ckRun(t, "start", "mcp", "--write", "--client", "emacs", "-o", cfg); code != 3 {
		t.Fatalf("unknown client: %d", code)
	}
}

func TestCIInitCLI(t *testing.T) {
	_, dir := gfEnv(t)
	wf := filepath.Join(dir, ".github", "workflows", "assay-verify.yml")
	code, out, errs := ckRun(t, "ci", "init", "github", "--run-command", "python3 app.py", "--cards", "receipt_completeness,no_breakglass", "-o", wf)
	if code != 0 || !strings.Contains(out, "Wrote "+wf) {
		t.Fatalf("ci init: %d %s %s", code, out, errs)
	}
	first, _ := os.ReadFile(wf)
	l, _ := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{})
	lintErrs, err := l.Lint(wf, first, nil)
	if err != nil || len(lintErrs) != 0 {
		t.Fatalf("actionlint: %v %v", err, lintErrs)
	}
	// Exists: exit 3 without --force, file unchanged.
	code, _, errs = ckRun(t, "ci", "init", "--run-command", "node x.js", "-o", wf)
	if now, _ := os.ReadFile(wf); code != 3 || !bytes.Equal(now, first) || !strings.Contains(errs, "--force") {
		t.Fatalf("no --force: exit %d %q", code, errs)
	}
	code, out, _ = ckRun(t, "ci", "init", "--run-command", "node x.js", "-o", wf, "--force", "--json")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc["status"] != "ok" {
		t.Fatalf("--force --json: %d %s", code, out)
	}
	if now, _ := os.ReadFile(wf); !strings.Contains(string(now), "-- node x.js") {
		t.Fatal("--force did not overwrite")
	}
	if code, _, _ := ckRun(t, "ci", "init", "gitlab", "-o", filepath.Join(dir, "x.yml")); code != 3 {
		t.Fatalf("unknown provider: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.yml")); err == nil {
		t.Fatal("unknown provider wrote a file")
	}
}

func TestDoctorCLI(t *testing.T) {
	_, dir := gfEnv(t)
	inDir(t, dir, func() {
		if code, _, errs := ckRun(t, "doctor", "--profile", "ledger"); code != 3 || !strings.Contains(errs, "unknown profile") {
			t.Fatalf("bad profile: %d %s", code, errs)
		}
		// Fresh machine and project: warnings (no home, key or lock), exit 0;
		// --strict makes them exit 1.
		code, out, _ := ckRun(t, "doctor", "--profile", "release")
		if code != 0 || !strings.Contains(out, "WARN  DOCTOR_KEY_001") || !strings.Contains(out, "Fix: assay key generate") || !strings.Contains(out, "Next: ") {
			t.Fatalf("first run: %d\n%s", code, out)
		}
		if code, _, _ := ckRun(t, "doctor", "--profile", "release", "--strict"); code != 1 {
			t.Fatalf("--strict with warnings: exit %d", code)
		}
		code, out, _ = ckRun(t, "doctor", "--profile", "release", "--fix")
		if code != 0 || !strings.Contains(out, "FIXED DOCTOR_KEY_001") || !strings.Contains(out, "FIXED DOCTOR_LOCK_001") {
			t.Fatalf("--fix: %d\n%s", code, out)
		}
		code, out, _ = ckRun(t, "doctor", "--profile", "release", "--strict", "--json")
		var r struct {
			Status  string         `json:"status"`
			Summary map[string]int `json:"summary"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Status != "pass" || r.Summary["warn"]+r.Summary["fail"] != 0 {
			t.Fatalf("second run: %d\n%s", code, out)
		}
		// A failing check: exit 1 with its fix shown.
		os.WriteFile("assay.lock", []byte("{}"), 0o644)
		code, out, _ = ckRun(t, "doctor", "--profile", "ci", "--check", "DOCTOR_LOCK_001")
		if code != 1 || !strings.Contains(out, "FAIL  DOCTOR_LOCK_001") || !strings.Contains(out, "Fix: mv assay.lock") {
			t.Fatalf("failing check: %d\n%s", code, out)
		}
	})
}

func TestFlowCLI(t *testing.T) {
	_, dir := gfEnv(t)
	code, out, _ := ckRun(t, "flow")
	if code != 0 || !strings.Contains(out, "adopt") || !strings.Contains(out, "audit") {
		t.Fatalf("flow list: %d %s", code, out)
	}
	for _, args := range [][]string{{"flow", "nope"}, {"flow", "adopt", "--param", "bogus=1"}, {"flow", "adopt", "--param", "novalue"}, {"flow", "try", "--dir", filepath.Join(dir, "missing")}} {
		if code, _, errs := ckRun(t, args...); code != 3 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	code, out, _ = ckRun(t, "flow", "try", "--dir", dir, "--json")
	var plan struct {
		Command string `json:"command"`
		Status  string `json:"status"`
		Steps   []struct {
			Command string `json:"command"`
			Status  string `json:"status"`
		} `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil || plan.Status != "dry_run" || len(plan.Steps) != 4 || plan.Steps[0].Command != "assay demo-challenge -o challenge_pack" {
		t.Fatalf("plan json: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "challenge_pack")); err == nil {
		t.Fatal("a dry run wrote files")
	}
	gfBinary(t)
	code, out, _ = ckRun(t, "flow", "try", "--dir", dir, "--apply", "--json")
	var res flows.Outcome
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Status != "ok" {
		t.Fatalf("apply: %d %s", code, out)
	}
	// Break the good pack: the flow stops at step 2 with exit 1, showing
	// the step's exit code and command.
	f := filepath.Join(dir, "challenge_pack", "good", "receipt_pack.jsonl")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte(`gpt-4`), []byte(`gpt-7`), 1), 0o644)
	code, out, errs := ckRun(t, "flow", "try", "--dir", dir, "--apply")
	for _, want := range []string{"assay flow try -- FAILED", "FAIL  Verify the good pack", "exit code 2", "$ assay verify-pack challenge_pack/good", "Flow stopped at step 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("failed flow output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || !strings.Contains(errs, "TAMPERED") {
		t.Fatalf("failed flow: exit %d, child output on stderr: %q", code, errs)
	}
}

// Ctrl-C in a terminal (SIGINT to the process group) and SIGTERM to assay
// alone both interrupt the running step; the flow reports exit code 130
// for it and stops.
func TestFlowInterrupted(t *testing.T) {
	bin := gfBinary(t)
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		group bool
	}{{"ctrl-c to the group", syscall.SIGINT, true}, {"sigterm to assay", syscall.SIGTERM, false}} {
		t.Run(tc.name, func(t *testing.T) {
			_, dir := gfEnv(t)
			cmd := exec.Command(bin, "flow", "adopt", "--apply", "--dir", dir, "--param", "run_command=sleep 30")
			cmd.Env = os.Environ()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			time.Sleep(2 * time.Second)
			pid := cmd.Process.Pid
			if tc.group {
				pid = -pid
			}
			syscall.Kill(pid, tc.sig)
			err := cmd.Wait()
			if time.Since(start) > 20*time.Second {
				t.Fatal("the step was not interrupted")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v\n%s\n%s", err, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "exit code 130") || !strings.Contains(out.String(), "Flow stopped at step") {
				t.Fatalf("output:\n%s", out.String())
			}
		})
	}
}
