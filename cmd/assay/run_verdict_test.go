package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// run's --json says whose exit code is whose: the child's (exit_code,
// child_exit_code), the pack's verdict (verdict, verdict_exit_code) and
// what run exits with (run_exit_code, exit_code_from); the text panel says
// which one the exit code is.
func TestRunReportsChildCodeAndVerdict(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	rtChildEnv(t)
	card := filepath.Join(dir, "card.json")
	os.WriteFile(card, []byte(`{"card_id": "needs_guardian", "name": "Guardian present", "claims": [
		{"claim_id": "has_guardian", "check": "receipt_type_present", "params": {"receipt_type": "guardian_verdict"}}]}`), 0o644)
	cases := []struct {
		name        string
		cards       []string
		child       int
		verdict     string
		verdictCode int
		runCode     int
		from        string
	}{
		{"child ok, claims pass", []string{"-c", "receipt_completeness"}, 0, "PASS", 0, 0, "run"},
		{"child ok, claim fails", []string{"-c", card}, 0, "HONEST_FAIL", 1, 0, "run"},
		{"child fails with 2, claims pass", []string{"-c", "receipt_completeness"}, 2, "PASS", 0, 2, "child"},
		{"child fails with 1, claim fails", []string{"-c", card}, 1, "HONEST_FAIL", 1, 1, "child"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "p"+strconv.Itoa(i))
			args := append(append([]string{"run", "--json", "-o", out}, c.cards...), "--")
			code, stdout, _ := ckRun(t, append(args, rtEmitScript(1, c.child)...)...)
			doc := rtSummary(t, stdout)
			if code != c.runCode || doc["child_exit_code"] != float64(c.child) || doc["exit_code"] != float64(c.child) ||
				doc["verdict"] != c.verdict || doc["verdict_exit_code"] != float64(c.verdictCode) ||
				doc["run_exit_code"] != float64(c.runCode) || doc["exit_code_from"] != c.from {
				t.Fatalf("exit %d, doc %v", code, doc)
			}
			// The verdict is what verify-pack really says.
			if vc, _ := rtVerify(t, out); vc != c.verdictCode {
				t.Fatalf("verify-pack exit %d, run said %d", vc, c.verdictCode)
			}
		})
	}
	out := filepath.Join(dir, "text")
	code, stdout, _ := ckRun(t, append([]string{"run", "-c", card, "-o", out, "--"}, rtEmitScript(1, 3)...)...)
	for _, want := range []string{"Child:     3 (the program's own exit code)", "Verdict:   HONEST_FAIL (verify-pack exits 1 on this pack)", "Exit:      3: the child's exit code, passed on"} {
		if code != 3 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, panel lacks %q:\n%s", code, want, stdout)
		}
	}
}

// --allow-empty with --json: stdout is still exactly one JSON document.
func TestRunAllowEmptyJSONIsPure(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	code, stdout, _ := ckRun(t, "run", "--json", "--allow-empty", "-o", filepath.Join(dir, "empty"), "--", "true")
	doc := rtSummary(t, stdout)
	if code != 0 || doc["n_receipts"] != float64(0) || doc["verdict"] != "PASS" {
		t.Fatalf("exit %d %v", code, doc)
	}
}

// The help says flags after the command belong to the child.
func TestRunHelpSaysChildFlags(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	_, out, _ := ckRun(t, "run", "--help")
	if !strings.Contains(out, "'assay run true --json' passes --json to true") {
		t.Fatalf("help:\n%s", out)
	}
}
