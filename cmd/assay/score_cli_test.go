package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/score"
	"github.com/assay-dev/assay/schemas/schematest"
)

// scoreRepo is a repository with an instrumented call site, a lock written
// by 'assay lock write', a workflow written by 'assay ci init github' and,
// when withPack, a real pack: 69.9 (D, capped) without it, 100 (A) with it.
func scoreRepo(t *testing.T, withPack bool) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("from assay.integrations.openai import patch\npatch()\nimport openai\nclient = openai.OpenAI()\nclient.chat.completions.create(model='gpt-4', messages=[])\n"), 0o644)
	for _, argv := range [][]string{
		{"lock", "write", "--cards", "receipt_completeness", "--any-signer", "-o", filepath.Join(dir, "assay.lock")},
		{"ci", "init", "github", "--run-command", "python3 app.py", "-o", filepath.Join(dir, ".github", "workflows", "assay-verify.yml")},
	} {
		if code, _, errs := ckRun(t, argv...); code != 0 {
			t.Fatalf("%v: %d %s", argv, code, errs)
		}
	}
	if withPack {
		c, err := demo.BuildChallenge(filepath.Join(t.TempDir(), "c"))
		if err != nil {
			t.Fatal(err)
		}
		copyDir(t, filepath.Join(c.Dir, "good"), filepath.Join(dir, "proof_pack_ci"))
	}
	return dir
}

// score prints the breakdown with hints, or one JSON document that
// validates against the checked-in schema.
func TestScoreCommand(t *testing.T) {
	capped, full := scoreRepo(t, false), scoreRepo(t, true)
	code, out, _ := ckRun(t, "score", capped)
	for _, want := range []string{"score:   69.9 / 100", "grade:   D", "cap CAP_NO_RECEIPTS_MAX_D", "raw score 78.0, grade C",
		"receipts       22     0.0", "→ assay run -c receipt_completeness", "(+22.0 pts est.)", "fastest path to C", "Next actions:\n  1. assay run"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("score: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	code, out, _ = ckRun(t, "score", full, "--json")
	var r score.Result
	ckJSON(t, out, &r)
	if code != 0 || r.Score != 100 || r.Grade != "A" || len(r.Caps) != 0 || len(r.Breakdown) != 5 || r.Facts.Packs[0] != "proof_pack_ci" {
		t.Errorf("score --json: %d %+v", code, r)
	}
	sch, err := score.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Valid(schematest.Compile(t, sch), []byte(out)); err != nil {
		t.Errorf("score --json does not validate: %v", err)
	}
	ckOneLine(t, []string{"score", filepath.Join(capped, "missing")}, "directory not found")
	ckOneLine(t, []string{"score", filepath.Join(capped, "app.py")}, "is not a directory")
	ckOneLine(t, []string{"score", capped, full}, "at most 1 argument")
}

// gate check: 0 at or above the minimum, 1 below it or below the saved
// baseline (with --fail-on-regression), 3 for bad input; save-baseline
// refuses to replace a baseline without --force.
func TestGateCommands(t *testing.T) {
	dir := scoreRepo(t, true)
	bl := filepath.Join(dir, ".assay", "score-baseline.json")
	if code, out, errs := ckRun(t, "gate", "save-baseline", dir); code != 0 || !strings.Contains(out, "score baseline saved: 100.0 (grade A)") {
		t.Fatalf("save-baseline: %d %s %s", code, out, errs)
	}
	before, _ := os.ReadFile(bl)
	ckOneLine(t, []string{"gate", "save-baseline", dir}, "already exists; nothing was changed (pass --force")
	if after, _ := os.ReadFile(bl); string(after) != string(before) {
		t.Error("a refused save-baseline changed the file")
	}
	code, out, _ := ckRun(t, "gate", "save-baseline", dir, "--force", "--json")
	var saved score.SaveResult
	ckJSON(t, out, &saved)
	if code != 0 || saved.Path != bl || saved.Baseline.Score != 100 {
		t.Errorf("save-baseline --force --json: %d %+v", code, saved)
	}

	// The pack goes away: the score drops to the cap, a regression.
	if err := os.RemoveAll(filepath.Join(dir, "proof_pack_ci")); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "gate.json")
	cases := []struct {
		argv []string
		code int
		want []string
	}{
		{[]string{"gate", "check", dir, "--min-score", "60"}, 0, []string{"GATE PASSED: score 69.9 (grade D), minimum 60.0", "regressed by 30.1", "receipts   -22.0"}},
		{[]string{"gate", "check", dir, "--min-score", "70"}, 1, []string{"GATE FAILED", "score 69.9 is below the minimum 70.0"}},
		{[]string{"gate", "check", dir, "--fail-on-regression"}, 1, []string{"GATE FAILED", "regressed from the baseline's 100.0"}},
		{[]string{"gate", "check", dir, "--min-score", "50", "--fail-on-regression", "--save-report", report, "--verbose"}, 1, []string{"GATE FAILED", "Evidence Readiness Score"}},
		{[]string{"gate", "check", t.TempDir(), "--fail-on-regression"}, 0, []string{"GATE PASSED", "note: no score baseline"}},
	}
	for _, c := range cases {
		code, out, errs := ckRun(t, c.argv...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (%s)", c.argv, code, c.code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.argv, w, out)
			}
		}
	}
	// --save-report wrote the JSON result; it validates and is not replaced
	// without --force.
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	sch, _ := score.GateSchema()
	if err := schematest.Valid(schematest.Compile(t, sch), b); err != nil {
		t.Errorf("report does not validate: %v", err)
	}
	ckOneLine(t, []string{"gate", "check", dir, "--save-report", report}, "already exists")

	code, out, _ = ckRun(t, "gate", "check", dir, "--min-score", "70", "--json")
	var g score.GateResult
	ckJSON(t, out, &g)
	if code != 1 || g.ExitCode != 1 || g.Passed || g.Status != "fail" || g.BaselineScore == nil || *g.BaselineScore != 100 || !g.Regression {
		t.Errorf("gate check --json: %d %+v", code, g)
	}

	ckOneLine(t, []string{"gate", "check", dir, "--min-score", "101"}, "--min-score must be within 0..100")
	ckOneLine(t, []string{"gate", "check", dir, "--min-score", "x"}, `--min-score: "x" is not a number`)
	ckOneLine(t, []string{"gate", "check", filepath.Join(dir, "missing")}, "directory not found")
	os.WriteFile(bl, []byte("{"), 0o644)
	ckOneLine(t, []string{"gate", "check", dir, "--fail-on-regression"}, "is not a baseline document")
	code, out, _ = ckRun(t, "gate", "check", dir, "--min-score", "-1", "--json")
	var env struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	}
	ckJSON(t, out, &env)
	if code != 3 || env.Status != "error" || env.ExitCode != 3 {
		t.Errorf("bad --min-score with --json: %d %q", code, out)
	}
}

// Mistyped commands and flags are answered with the right name; the
// repository argument completes as a directory, --min-score with values.
func TestScoreGateSuggestAndComplete(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"scor"}, "did you mean score?"},
		{[]string{"gate", "chek"}, "did you mean check?"},
		{[]string{"gate", "save-baselin"}, "did you mean save-baseline?"},
		{[]string{"gate", "check", "--min-scor", "3"}, "did you mean --min-score?"},
		{[]string{"gate", "check", "--fail-on-regresion"}, "did you mean --fail-on-regression?"},
		{[]string{"incident", "replai"}, "did you mean replay?"},
		{[]string{"incident", "replay", "x", "--polcy", "p"}, "did you mean --policy?"},
	} {
		ckOneLine(t, c.argv, c.want)
	}
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"__complete", "score", ""}, ":16"},                              // ShellCompDirectiveFilterDirs
		{[]string{"__complete", "gate", "check", ""}, ":16"},                      // ShellCompDirectiveFilterDirs
		{[]string{"__complete", "gate", "check", "--min-score", ""}, "70"},        // values
		{[]string{"__complete", "incident", "replay", "p", "-p", ""}, "yaml"},     // policy files
		{[]string{"__complete", "incident", "replay", "p", "--policy", ""}, ":8"}, // ShellCompDirectiveFilterFileExt
	} {
		code, out, _ := ckRun(t, c.argv...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: %d %q, want %q", c.argv, code, out, c.want)
		}
	}
}

// ci init --min-score puts the minimum into the workflow's gate job, and
// the workflow ci init writes earns the ci_gate component in full.
func TestCIInitMinScore(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows", "assay-verify.yml")
	code, out, errs := ckRun(t, "ci", "init", "github", "--run-command", "python3 app.py", "--min-score", "70", "-o", wf)
	if code != 0 || !strings.Contains(out, "3 jobs") || !strings.Contains(out, "assay gate check . --min-score 70 --fail-on-regression") {
		t.Fatalf("ci init: %d %s %s", code, out, errs)
	}
	b, _ := os.ReadFile(wf)
	if !strings.Contains(string(b), "assay gate check . --min-score 70 --fail-on-regression --save-report assay_gate_report.json") {
		t.Errorf("workflow lacks the gate job:\n%s", b)
	}
	code, out, _ = ckRun(t, "score", dir, "--json")
	var r score.Result
	ckJSON(t, out, &r)
	if c, _ := r.Component(score.CIGate); code != 0 || c.Points != 22 {
		t.Errorf("ci_gate of the generated workflow: %+v", c)
	}
	ckOneLine(t, []string{"ci", "init", "github", "--min-score", "120", "-o", filepath.Join(dir, "other.yml")}, "--min-score must be within 0..100")
}
