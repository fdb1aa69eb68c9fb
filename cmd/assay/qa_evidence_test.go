package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/packs/packstest"
)

// The human diff ends with its exit line (the report path comes before it)
// and claim details read "expected X; actual: Y", never "got found N".
func TestQADiffTextLayout(t *testing.T) {
	dir := t.TempDir()
	a := packstest.DiffFixture(t, dir, "base")
	b := packstest.DiffFixture(t, dir, "claim_regression")
	report := filepath.Join(dir, "d.html")
	code, out, errs := dfRun(t, "diff", a, b, "--report", report)
	if code != 1 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "exit 1" {
		t.Fatalf("last line %q, want the exit line:\n%s", last, out)
	}
	if !strings.Contains(out, "report: "+report+"\nexit 1") {
		t.Fatalf("report line not right before the exit line:\n%s", out)
	}
	if strings.Contains(out, "got found") || !strings.Contains(out, "; actual: found ") {
		t.Fatalf("claim detail wording:\n%s", out)
	}
}

// --min-coverage alone gates nothing; it is refused rather than ignored
// (a silently skipped gate reads as a passed one).
func TestQAMinCoverageNeedsContract(t *testing.T) {
	p := packstest.DiffFixture(t, t.TempDir(), "base")
	for _, args := range [][]string{{"verify-pack", p, "--min-coverage", "0.9"}, {"verify-pack", p, "--min-coverage", "2", "--json"}} {
		code, out, errs := dfRun(t, args...)
		if code != 3 || out != "" || !strings.Contains(errs, "--coverage-contract") {
			t.Fatalf("%v: exit %d stdout %q stderr %q", args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
}

// A verdict panel has no doubled blank line when the only note is one
// that is not shown (the unpinned-signer note on a non-PASS verdict).
func TestQAVerdictPanelSpacing(t *testing.T) {
	p := packstest.DiffFixture(t, t.TempDir(), "claim_regression")
	code, out, _ := dfRun(t, "verify-pack", p)
	if code != 1 || strings.Contains(out, "\n\n\n") {
		t.Fatalf("exit %d, panel:\n%q", code, out)
	}
}
