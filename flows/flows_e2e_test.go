package flows_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/flows"
	"github.com/assay-dev/assay/internal/childtest"
)

// assayBin is the real assay binary (and assay-mcp beside it), built on
// first use, so unit tests and fuzzing do not pay for the build.
var (
	assayBin  string
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	childtest.Main(planChildEnv, planChild)
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func buildBinaries(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "assay-flows-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		for _, pkg := range []string{"assay", "assay-mcp"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, pkg), "./cmd/"+pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", pkg, err, out)
				return
			}
		}
		assayBin = filepath.Join(dir, "assay")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// project makes a temp project dir and a private assay home for it, and
// the environment the test's flow steps run in (stepEnv): this process's,
// without what would point the steps elsewhere, plus the built assay as
// ASSAY_BIN. The process itself is left alone, so tests run in parallel.
func project(t *testing.T) string {
	t.Helper()
	buildBinaries(t)
	drop := map[string]bool{"ASSAY_HOME": true, "OPENAI_BASE_URL": true, "ANTHROPIC_BASE_URL": true, "GOOGLE_GEMINI_BASE_URL": true,
		"ASSAY_GATEWAY": true, "ASSAY_TRACE_ID": true, "ASSAY_BIN": true, "GITHUB_ACTIONS": true}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env, flows.EnvAssayBin+"="+assayBin, "ASSAY_HOME="+filepath.Join(t.TempDir(), "home"))
	stepEnvs.Store(t, env)
	t.Cleanup(func() { stepEnvs.Delete(t) })
	return t.TempDir()
}

// stepEnvs holds the environment project gave each test.
var stepEnvs sync.Map // *testing.T -> []string

// setStepEnv sets key=value in the environment of t's flow steps.
func setStepEnv(t *testing.T, key, value string) {
	t.Helper()
	env, ok := stepEnvs.Load(t)
	if !ok {
		t.Fatal("setStepEnv before project")
	}
	stepEnvs.Store(t, append(env.([]string), key+"="+value))
}

// stepEnv returns the environment of t's flow steps.
func stepEnv(t *testing.T) []string {
	t.Helper()
	env, ok := stepEnvs.Load(t)
	if !ok {
		t.Fatal("stepEnv before project")
	}
	return env.([]string)
}

func plan(t *testing.T, name, dir string, params map[string]string) *flows.Plan {
	t.Helper()
	f, err := flows.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Plan(dir, params)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t *testing.T, p *flows.Plan) *flows.Outcome {
	t.Helper()
	return flows.Apply(context.Background(), p, &flows.ExecRunner{Env: stepEnv(t)})
}

// want is the expected outcome of one step.
type want struct {
	id     string
	status string
	code   int // -1: no exit code (skipped, print_only, not_run)
}

func assertOutcome(t *testing.T, o *flows.Outcome, steps ...want) {
	t.Helper()
	if len(o.Steps) != len(steps) {
		t.Fatalf("%d steps, want %d", len(o.Steps), len(steps))
	}
	for i, w := range steps {
		s := o.Steps[i]
		got := -1
		if s.ExitCode != nil {
			got = *s.ExitCode
		}
		if s.ID != w.id || s.Status != w.status || got != w.code {
			t.Errorf("step %d: got %s %s exit %d, want %s %s exit %d\n$ %s\nstdout: %s\nstderr: %s",
				i+1, s.ID, s.Status, got, w.id, w.status, w.code, s.Command, s.StdoutTail, s.StderrTail)
		}
	}
}

func assertPlanned(t *testing.T, p *flows.Plan, statuses ...string) {
	t.Helper()
	if len(p.Steps) != len(statuses) {
		t.Fatalf("%d planned steps, want %d", len(p.Steps), len(statuses))
	}
	for i, s := range p.Steps {
		if s.Status != statuses[i] {
			t.Errorf("planned step %d (%s): %s, want %s", i+1, s.ID, s.Status, statuses[i])
		}
		for _, a := range s.Argv {
			if strings.ContainsAny(a, "*?") {
				t.Errorf("step %d names a glob: %s", i+1, s.Command)
			}
		}
	}
}

func TestFlowTry(t *testing.T) {
	t.Parallel()
	dir := project(t)
	p := plan(t, "try", dir, nil)
	assertPlanned(t, p, "planned", "planned", "planned", "planned")
	if _, err := os.Stat(filepath.Join(dir, "challenge_pack")); err == nil {
		t.Fatal("planning wrote files")
	}
	o := apply(t, p)
	assertOutcome(t, o, want{"demo", "ok", 0}, want{"verify-good", "ok", 0}, want{"verify-tampered", "ok", 2}, want{"explain", "ok", 0})
	if o.Status != "ok" || o.FailedStep != 0 {
		t.Fatalf("outcome %+v", o)
	}
	// Again: the demo packs exist, so step 1 is skipped; the rest re-verify.
	p = plan(t, "try", dir, nil)
	assertPlanned(t, p, "skipped", "planned", "planned", "planned")
	assertOutcome(t, apply(t, p), want{"demo", "skipped", -1}, want{"verify-good", "ok", 0}, want{"verify-tampered", "ok", 2}, want{"explain", "ok", 0})
}

// A failing step stops the flow with its exit code and the command.
func TestFlowStopsAtFailingStep(t *testing.T) {
	t.Parallel()
	dir := project(t)
	if o := apply(t, plan(t, "try", dir, nil)); o.Status != "ok" {
		t.Fatalf("setup: %+v", o)
	}
	f := filepath.Join(dir, "challenge_pack", "good", "receipt_pack.jsonl")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, []byte(strings.Replace(string(b), "gpt-4", "gpt-7", 1)), 0o644)
	o := apply(t, plan(t, "try", dir, nil))
	assertOutcome(t, o, want{"demo", "skipped", -1}, want{"verify-good", "failed", 2}, want{"verify-tampered", "not_run", -1}, want{"explain", "not_run", -1})
	if o.Status != "failed" || o.FailedStep != 2 || *o.FailedExitCode != 2 || o.FailedCommand != "assay verify-pack challenge_pack/good" {
		t.Fatalf("outcome %+v", o)
	}
	if !strings.Contains(o.Steps[1].StdoutTail+o.Steps[1].StderrTail, "TAMPER") {
		t.Errorf("failed step output not kept: %q %q", o.Steps[1].StdoutTail, o.Steps[1].StderrTail)
	}
}

func TestFlowMCP(t *testing.T) {
	t.Parallel()
	dir := project(t)
	// Installed as a user would (go install puts it on PATH): the config
	// names the command, not the build directory.
	setStepEnv(t, "PATH", filepath.Dir(assayBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	p := plan(t, "mcp", dir, nil)
	assertPlanned(t, p, "planned", "planned", "print_only")
	o := apply(t, p)
	assertOutcome(t, o, want{"config", "ok", 0}, want{"check", "ok", 0}, want{"serve", "print_only", -1})
	s, err := ciinit.ReadMCPConfig(filepath.Join(dir, ".mcp.json"), ciinit.ClientClaude)
	if err != nil || s == nil {
		t.Fatalf("config: %v %v", s, err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if s.Command != "assay-mcp" || len(s.Roots()) != 1 || (s.Roots()[0] != dir && s.Roots()[0] != real) || s.AllowExec() {
		t.Fatalf("entry %+v", s)
	}
	// Planned again: the config exists, so step 1 is skipped.
	assertPlanned(t, plan(t, "mcp", dir, nil), "skipped", "planned", "print_only")
	// A vscode config with exec allowed.
	o = apply(t, plan(t, "mcp", dir, map[string]string{"client": "vscode", "allow_exec": "true"}))
	assertOutcome(t, o, want{"config", "ok", 0}, want{"check", "ok", 0}, want{"serve", "print_only", -1})
	if s, _ := ciinit.ReadMCPConfig(filepath.Join(dir, ".vscode", "mcp.json"), ciinit.ClientVSCode); s == nil || !s.AllowExec() || s.Type != "stdio" {
		t.Fatalf("vscode entry %+v", s)
	}
	// A broken root makes the check step fail and stop the flow.
	os.WriteFile(filepath.Join(dir, ".mcp.json"), []byte(`{"mcpServers": {"assay": {"command": "/bin/sh", "args": ["--root", "/nonexistent/root"]}}}`), 0o644)
	o = apply(t, plan(t, "mcp", dir, nil))
	assertOutcome(t, o, want{"config", "skipped", -1}, want{"check", "failed", 1}, want{"serve", "not_run", -1})
}
