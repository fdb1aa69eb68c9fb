package doctor

import (
	"fmt"

	"github.com/assay-dev/assay/core/scan"
)

// ---- DOCTOR_SCAN_001 (probe): are the project's LLM call sites instrumented?
// The answer is scan's (core/scan/instrumentation.go), the same one patch
// plans from and coverage contracts record; test code is counted apart.

func probeInstrumentation(e *env) Probe {
	res, err := scan.Scan(e.dir, scan.Options{ExcludeTests: true})
	if err != nil {
		return Probe{Status: Skip, Severity: Info, Message: "project not scanned: " + err.Error()}
	}
	s := res.Summary()
	tests := ""
	if res.ExcludedTests > 0 {
		tests = fmt.Sprintf(" (%d more in test code, not counted)", res.ExcludedTests)
	}
	switch {
	case s.SitesTotal == 0:
		return Probe{Status: Skip, Severity: Info, Message: "no LLM call sites found in " + e.rel(e.dir) + tests}
	case s.Uninstrumented == 0:
		return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("all %d LLM call site(s) are instrumented%s", s.SitesTotal, tests)}
	}
	sev := Medium
	if s.High == 0 {
		sev = Low
	}
	fix := "assay patch ."
	if steps := res.NextSteps(); len(steps) > 0 && len(steps[0].Commands) > 0 {
		fix = steps[0].Commands[0]
	}
	first := ""
	for _, f := range res.Findings {
		if !f.Instrumented {
			first = fmt.Sprintf("%s:%d", f.Path, f.Line)
			break
		}
	}
	return Probe{Status: Warn, Severity: sev,
		Message:  fmt.Sprintf("%d of %d LLM call site(s) record no receipt%s", s.Uninstrumented, s.SitesTotal, tests),
		Evidence: "first: " + first + " (assay scan . lists them all)",
		Fix:      fix}
}
