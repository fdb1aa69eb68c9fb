package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

// testFlow builds a flow from fixed steps, for exercising the engine with
// commands that exist everywhere.
func testFlow(steps ...Step) *Flow {
	return &Flow{Name: "t", Params: []Param{{Name: "x", Default: "1"}},
		build: func(string, map[string]string) ([]Step, error) { return steps, nil }}
}

func sh(script string) []string { return []string{"sh", "-c", script} }

func TestPlanNeverExecutes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := testFlow(
		Step{ID: "touch", Title: "touch", Argv: sh("touch ran")},
		Step{ID: "skipme", Title: "skip", Argv: []string{"false"}, skip: existsSkip("marker")},
		Step{ID: "info", Title: "info", Argv: []string{"server"}, PrintOnly: true},
	)
	os.WriteFile(filepath.Join(dir, "marker"), nil, 0o644)
	p, err := f.Plan(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Fatal("planning executed a step")
	}
	want := []string{StatusPlanned, StatusSkipped, StatusPrintOnly}
	for i, s := range p.Steps {
		if s.Status != want[i] || s.Number != i+1 {
			t.Errorf("step %d: status %s, want %s", i+1, s.Status, want[i])
		}
		if len(s.OKCodes) == 0 {
			t.Errorf("step %d: default ok codes missing", i+1)
		}
	}
	if !p.Executes() {
		t.Error("a plan with a planned step says it executes nothing")
	}
	if p.Steps[1].SkipReason != "marker exists" {
		t.Errorf("skip reason %q", p.Steps[1].SkipReason)
	}
	if p.Steps[0].Command != "sh -c 'touch ran'" {
		t.Errorf("command display %q", p.Steps[0].Command)
	}
}

func TestApplyStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := testFlow(
		Step{ID: "one", Title: "one", Argv: sh("echo out-one; echo err-one >&2; touch one")},
		Step{ID: "two", Title: "two", Argv: sh("exit 2"), OKCodes: []int{0, 2}},
		Step{ID: "three", Title: "three", Argv: sh("echo boom; exit 3")},
		Step{ID: "four", Title: "four", Argv: sh("touch four")},
		Step{ID: "five", Title: "five", Argv: []string{"x"}, PrintOnly: true},
	)
	p, err := f.Plan(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	out := Apply(context.Background(), p, &ExecRunner{Stream: &stream})
	if out.ExitCode() != 1 {
		t.Errorf("failed flow exit code %d", out.ExitCode())
	}
	if out.Status != StatusFailed || out.FailedStep != 3 || out.FailedExitCode == nil || *out.FailedExitCode != 3 {
		t.Fatalf("outcome: %+v", out)
	}
	if out.FailedCommand != "sh -c 'echo boom; exit 3'" {
		t.Errorf("failed command %q", out.FailedCommand)
	}
	wantStatus := []string{StatusOK, StatusOK, StatusFailed, StatusNotRun, StatusNotRun}
	wantCode := []int{0, 2, 3, -1, -1}
	for i, s := range out.Steps {
		if s.Status != wantStatus[i] {
			t.Errorf("step %d status %s, want %s", i+1, s.Status, wantStatus[i])
		}
		if (s.ExitCode == nil) != (wantCode[i] < 0) || s.ExitCode != nil && *s.ExitCode != wantCode[i] {
			t.Errorf("step %d exit code %v, want %d", i+1, s.ExitCode, wantCode[i])
		}
	}
	if out.Steps[0].StdoutTail != "out-one\n" || out.Steps[0].StderrTail != "err-one\n" {
		t.Errorf("tails: %q %q", out.Steps[0].StdoutTail, out.Steps[0].StderrTail)
	}
	if out.Steps[2].StdoutTail != "boom\n" {
		t.Errorf("failed step tail %q", out.Steps[2].StdoutTail)
	}
	if _, err := os.Stat(filepath.Join(dir, "four")); err == nil {
		t.Fatal("a step after the failure ran")
	}
	if _, err := os.Stat(filepath.Join(dir, "one")); err != nil {
		t.Fatal("step one did not run in the plan's directory")
	}
	if !strings.Contains(stream.String(), "out-one") || !strings.Contains(stream.String(), "boom") {
		t.Errorf("stream missed child output: %q", stream.String())
	}

	var txt bytes.Buffer
	RenderOutcomeText(&txt, out)
	for _, want := range []string{"assay t -- FAILED", "PASS  one", "FAIL  three", "exit code 3", "$ sh -c 'echo boom; exit 3'", "Flow stopped at step 3"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text outcome lacks %q:\n%s", want, txt.String())
		}
	}
	b, _ := json.Marshal(out)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	if doc["failed_step"] != float64(3) || doc["failed_exit_code"] != float64(3) {
		t.Errorf("json outcome: %s", b)
	}
}

func TestApplyReevaluatesSkips(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := testFlow(
		Step{ID: "make", Title: "make", Argv: sh("touch lock")},
		Step{ID: "needs", Title: "skipped once lock exists", Argv: []string{"false"}, skip: existsSkip("lock")},
	)
	p, _ := f.Plan(dir, nil)
	if p.Steps[1].Status != StatusPlanned {
		t.Fatalf("planned status %s", p.Steps[1].Status)
	}
	out := Apply(context.Background(), p, &ExecRunner{})
	if out.ExitCode() != 0 {
		t.Errorf("exit code %d", out.ExitCode())
	}
	if p2, _ := testFlow(Step{ID: "i", Argv: []string{"x"}, PrintOnly: true}, Step{ID: "s", Argv: []string{"x"}, skip: existsSkip("lock")}).Plan(dir, nil); p2.Executes() {
		t.Error("a plan of print-only and skipped steps says it executes")
	}
	if out.Status != StatusOK || out.Steps[1].Status != StatusSkipped || out.Steps[1].ExitCode != nil {
		t.Fatalf("outcome %+v", out.Steps[1])
	}
}

func TestApplyCommandNotFound(t *testing.T) {
	t.Parallel()
	p, _ := testFlow(Step{ID: "nope", Title: "nope", Argv: []string{"/nonexistent/assay-no-such-binary"}}).Plan(t.TempDir(), nil)
	out := Apply(context.Background(), p, &ExecRunner{})
	if out.Status != StatusFailed || *out.Steps[0].ExitCode != 127 || out.Steps[0].Error == "" {
		t.Fatalf("outcome %+v", out.Steps[0])
	}
}

// Cancelling mid-step interrupts the step (SIGINT, exit 130) and fails it.
func TestApplyCancelledMidStep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p, _ := testFlow(Step{ID: "sleep", Title: "sleep", Argv: []string{"sleep", "30"}}, Step{ID: "after", Title: "after", Argv: []string{"true"}}).Plan(t.TempDir(), nil)
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start := time.Now()
	out := Apply(ctx, p, &ExecRunner{})
	if time.Since(start) > 10*time.Second {
		t.Fatal("cancel did not stop the step")
	}
	if out.Status != StatusFailed || *out.Steps[0].ExitCode != 130 || out.Steps[1].Status != StatusNotRun {
		t.Fatalf("outcome %+v %+v", out.Steps[0], out.Steps[1])
	}
}

func TestApplyCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, _ := testFlow(Step{ID: "sleep", Title: "sleep", Argv: []string{"sleep", "5"}}).Plan(t.TempDir(), nil)
	out := Apply(ctx, p, &ExecRunner{})
	if out.Status != StatusFailed {
		t.Fatalf("a cancelled apply passed: %+v", out.Steps[0])
	}
}

func TestAssayArg0UsesConfiguredBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-assay")
	os.WriteFile(fake, []byte("#!/bin/sh\necho \"fake $*\"\n"), 0o755)
	p, _ := testFlow(Step{ID: "v", Title: "v", Argv: []string{AssayArg0, "version"}}).Plan(dir, nil)
	out := Apply(context.Background(), p, &ExecRunner{Assay: fake})
	if out.Status != StatusOK || out.Steps[0].StdoutTail != "fake version\n" {
		t.Fatalf("outcome %+v", out.Steps[0])
	}
	if got := AssayBinaryIn([]string{"PATH=/usr/bin", EnvAssayBin + "=" + fake}); got != fake {
		t.Fatalf("ASSAY_BIN ignored: %s", got)
	}
	// A runner without Assay takes ASSAY_BIN from its own environment.
	out = Apply(context.Background(), p, &ExecRunner{Env: []string{"PATH=" + os.Getenv("PATH"), EnvAssayBin + "=" + fake}})
	if out.Status != StatusOK || out.Steps[0].StdoutTail != "fake version\n" {
		t.Fatalf("ASSAY_BIN in Env ignored: %+v", out.Steps[0])
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	t.Parallel()
	var tl tail
	for i := 0; i < 5000; i++ {
		tl.Write([]byte("0123456789"))
	}
	tl.Write([]byte("END"))
	s := tl.String()
	if len(s) != TailBytes || !strings.HasSuffix(s, "END") {
		t.Fatalf("tail len %d suffix %q", len(s), s[len(s)-5:])
	}
}

func TestParamsAndRegistry(t *testing.T) {
	t.Parallel()
	if got := Names(); strings.Join(got, ",") != "adopt,audit,ci,mcp,try" {
		t.Fatalf("names %v", got)
	}
	if _, err := Get("nope"); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "adopt, audit, ci, mcp, try") {
		t.Fatalf("unknown flow: %v", err)
	}
	f, _ := Get("adopt")
	cases := []struct {
		params map[string]string
		ok     bool
	}{
		{map[string]string{}, true},
		{map[string]string{"bogus": "1"}, false},
		{map[string]string{"run_command": ""}, false},
		{map[string]string{"run_command": "python3 app.py | tee log"}, false},
		{map[string]string{"run_command": "python3 app.py && rm x"}, false},
		{map[string]string{"run_command": "echo $HOME"}, false},
		{map[string]string{"run_command": "python3 'my app.py' --x=1"}, true},
		{map[string]string{"pack": "proof_pack_*"}, false},
		{map[string]string{"gateway": "maybe"}, false},
	}
	for _, tc := range cases {
		_, err := f.Plan(t.TempDir(), tc.params)
		if (err == nil) != tc.ok || err != nil && exit.Code(err) != exit.BadInput {
			t.Errorf("%v: err %v", tc.params, err)
		}
	}
	if _, err := ParseParams([]string{"novalue"}); exit.Code(err) != exit.BadInput {
		t.Errorf("malformed param: %v", err)
	}
	m, _ := ParseParams([]string{"a=b=c", "x="})
	if m["a"] != "b=c" || m["x"] != "" {
		t.Errorf("params %v", m)
	}
	argv, _ := SplitCommand("c", `python3 'my app.py' --x="a b"`)
	if strings.Join(argv, "|") != "python3|my app.py|--x=a b" {
		t.Errorf("split %q", argv)
	}
	if Quote(argv) != `python3 'my app.py' '--x=a b'` {
		t.Errorf("quote %q", Quote(argv))
	}
}

// BenchmarkPlanAll plans every registered flow (what run-flow without
// apply costs an agent).
func BenchmarkPlanAll(b *testing.B) {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "proof_pack_x"), 0o755)
	os.WriteFile(filepath.Join(dir, "proof_pack_x", "pack_manifest.json"), []byte("{}"), 0o644)
	for i := 0; i < b.N; i++ {
		for _, n := range Names() {
			f, _ := Get(n)
			if _, err := f.Plan(dir, nil); err != nil {
				b.Fatal(n, err)
			}
		}
	}
}

// Quote's output splits back into the same argv (what a user copies from
// a plan is what the step runs).
func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{`python3 app.py`, `python3 'my app.py' --x="a b"`, `node -e 'console.log(1)'`, `a\ b`, `"it's"`, `x ''`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, err := SplitCommand("c", s)
		if err != nil {
			return
		}
		back, err := SplitCommand("c", Quote(argv))
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, Quote(argv), err)
		}
		if strings.Join(back, "\x00") != strings.Join(argv, "\x00") {
			t.Fatalf("%q: %q -> %q -> %q", s, argv, Quote(argv), back)
		}
	})
}
