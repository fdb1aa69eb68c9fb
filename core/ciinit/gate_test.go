package ciinit

import (
	"math"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

// The workflow carries the reference's readiness gate job (runtime.md §5):
// 'assay gate check . --min-score N --fail-on-regression' with its report
// uploaded as assay-gate-report; at 0 a comment says to raise it. It
// passes actionlint at any minimum; a minimum outside 0..100 is bad input.
func TestWorkflowScoreGate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		min     float64
		flag    string
		comment bool
	}{{0, "--min-score 0 ", true}, {72.5, "--min-score 72.5 ", false}, {100, "--min-score 100 ", false}} {
		w, err := RenderWorkflow(WorkflowOptions{RunCommand: "python3 app.py", MinScore: tc.min})
		if err != nil {
			t.Fatal(err)
		}
		y := string(w.YAML)
		for _, want := range []string{"  assay-gate:\n", "assay gate check . " + tc.flag + "--fail-on-regression --save-report assay_gate_report.json", "name: assay-gate-report", "path: assay_gate_report.json"} {
			if !strings.Contains(y, want) {
				t.Errorf("min %v: workflow lacks %q", tc.min, want)
			}
		}
		if got := strings.Contains(y, "raise --min-score once it is stable"); got != tc.comment {
			t.Errorf("min %v: raise comment %v, want %v", tc.min, got, tc.comment)
		}
		if w.MinScore != tc.min || w.GateReport != GateReportFile {
			t.Errorf("min %v: %+v", tc.min, w)
		}
		for _, e := range lint(t, w.YAML) {
			t.Errorf("actionlint: %s", e.Error())
		}
	}
	for _, bad := range []float64{-1, 100.5, math.NaN()} {
		if _, err := RenderWorkflow(WorkflowOptions{MinScore: bad}); exit.Code(err) != exit.BadInput {
			t.Errorf("min %v: %v, want bad input", bad, err)
		}
	}
}
