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
