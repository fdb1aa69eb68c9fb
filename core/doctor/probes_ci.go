package doctor

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Probes of the CI workflows (DOCTOR_CI_001, CI_003).

// ---- DOCTOR_CI_001 / 003

type workflow struct {
	path, text string
}

func (e *env) workflows() ([]workflow, bool) {
	wd := filepath.Join(e.dir, ".github", "workflows")
	ents, err := os.ReadDir(wd)
	if err != nil {
		return nil, false
	}
	var out []workflow
	for _, d := range ents {
		n := d.Name()
		if d.IsDir() || !(strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(wd, n)); err == nil {
			out = append(out, workflow{path: filepath.Join(".github", "workflows", n), text: string(b)})
		}
	}
	return out, true
}

var ciInitCmd = "assay ci init github --run-command " + shq(ciinit.DefaultRunCommand)

func probeCIWorkflow(e *env) Probe {
	wfs, ok := e.workflows()
	if !ok {
		return Probe{Status: Warn, Severity: Medium, Message: "no .github/workflows directory", Fix: ciInitCmd}
	}
	for _, w := range wfs {
		if strings.Contains(w.text, "assay") && (strings.Contains(w.text, "verify-pack") || strings.Contains(w.text, "assay-verify-action")) {
			return Probe{Status: Pass, Severity: Info, Message: "assay verification found in " + w.path}
		}
	}
	return Probe{Status: Warn, Severity: Medium, Message: "no workflow runs assay verify-pack", Fix: ciInitCmd}
}

var continueOnError = lazyre.New(`(?m)^\s*continue-on-error:\s*true\b`)

func probeContinueOnError(e *env) Probe {
	wfs, ok := e.workflows()
	if !ok {
		return Probe{Status: Skip, Severity: Info, Message: "no .github/workflows directory"}
	}
	var bad []string
	for _, w := range wfs {
		if strings.Contains(w.text, "assay") && continueOnError().MatchString(w.text) {
			bad = append(bad, w.path)
		}
	}
	if len(bad) > 0 {
		return Probe{Status: Warn, Severity: Medium, Message: "continue-on-error: true in an assay workflow lets failed verification pass CI: " + strings.Join(bad, ", "),
			Fix: "sed -i '/continue-on-error: *true/d' " + strings.Join(bad, " ")}
	}
	return Probe{Status: Pass, Severity: Info, Message: "no assay workflow ignores step failures"}
}
