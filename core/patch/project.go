package patch

import (
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/scan/typescript"
)

// Langs are the values of `assay patch --lang`.
var Langs = []string{"auto", "python", "go", "node"}

// CheckLang refuses an unknown --lang (exit 3).
func CheckLang(lang string) error {
	for _, l := range Langs {
		if l == lang {
			return nil
		}
	}
	return exit.Bad("use python, go, node or auto", "unknown --lang %q", lang)
}

// PlanProject plans the patches of a scanned project: one plan per
// language asked for (lang) or, with "auto", per language that has
// uninstrumented call sites, the entrypoint's language first deciding
// between Python and Node. The plans are in the order Python, Node, Go.
func PlanProject(root string, res *scan.Result, lang, entrypoint string) ([]*Plan, error) {
	hasGo, hasPy, hasTS := false, false, false
	for _, f := range res.Findings {
		if f.Instrumented {
			continue
		}
		hasGo = hasGo || f.Lang == "go"
		hasPy = hasPy || f.Lang == "python"
		hasTS = hasTS || f.Lang == "typescript"
	}
	epPy := strings.HasSuffix(entrypoint, ".py")
	epTS := false
	if entrypoint != "" {
		_, epTS = typescript.DialectOf(entrypoint)
	}
	var plans []*Plan
	if lang == "python" || (lang == "auto" && (epPy || (hasPy && !epTS))) {
		p, err := PlanPython(res, entrypoint)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	if lang == "node" || (lang == "auto" && (epTS || (hasTS && !epPy))) {
		p, err := PlanNode(res, entrypoint)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	if lang == "go" || (lang == "auto" && hasGo) {
		p, err := PlanGo(root)
		if err != nil {
			return nil, err
		}
		for _, f := range res.Findings {
			if f.Lang == "go" && !f.Instrumented {
				p.Uninstrumented++
			}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// ApplyAll applies each plan with its language's compile check (python3,
// go build, or tsc/node); a plan whose code no longer compiles is rolled
// back and its error returned.
func ApplyAll(plans []*Plan) error {
	for _, p := range plans {
		check := CheckPython
		switch p.Language {
		case "go":
			check = CheckGo
		case "node":
			check = NodeChecker(p)
		}
		if err := Apply(p, check); err != nil {
			return err
		}
	}
	return nil
}

// WouldRestore lists, relative to root, the files --undo would restore.
func WouldRestore(root, entrypoint string) ([]string, error) {
	baks, err := Backups(root, entrypoint)
	if err != nil {
		return nil, err
	}
	var would []string
	for _, b := range baks {
		r, _ := filepath.Rel(root, strings.TrimSuffix(b, BackupExt))
		would = append(would, r)
	}
	return would, nil
}

// Report is the --json document of `assay patch` (the reference's fields
// for the Python plan, plus every plan and the files it changes).
type Report struct {
	Command        string   `json:"command"`
	Status         string   `json:"status"`
	Diff           string   `json:"diff"`
	Entrypoint     *string  `json:"entrypoint"`
	Frameworks     []string `json:"frameworks"`
	LinesToInsert  []string `json:"lines_to_insert"`
	InsertionLine  int      `json:"insertion_line"`
	AlreadyPatched bool     `json:"already_patched"`
	LangchainNote  *string  `json:"langchain_note"`
	Plans          []*Plan  `json:"plans"`
	Files          []string `json:"files"`
	Restored       []string `json:"restored,omitempty"`
}

// NewReport summarises plans (Status is left for the caller: dry_run,
// nothing_to_do or applied). Lists are never null.
func NewReport(plans []*Plan) *Report {
	r := &Report{Command: "patch", Plans: plans, Files: []string{}, Frameworks: []string{}, LinesToInsert: []string{}}
	if r.Plans == nil {
		r.Plans = []*Plan{}
	}
	var full strings.Builder
	for _, p := range plans {
		full.WriteString(p.Diff(true))
		r.Files = append(r.Files, p.Files()...)
	}
	r.Diff = full.String()
	for _, p := range plans {
		if p.Language != "python" {
			continue
		}
		if p.Entrypoint != "" {
			ep := p.Entrypoint
			r.Entrypoint = &ep
		}
		r.Frameworks, r.LinesToInsert, r.InsertionLine, r.AlreadyPatched = p.Frameworks, p.LinesToInsert, p.InsertionLine, p.AlreadyPatched
		if p.LangchainNote != "" {
			note := p.LangchainNote
			r.LangchainNote = &note
		}
	}
	return r
}

// UndoReport is the --json document of --undo (status undone, or dry_run
// listing what it would restore).
func UndoReport(status string, files []string) *Report {
	r := &Report{Command: "patch", Status: status, Frameworks: []string{}, LinesToInsert: []string{}, Plans: []*Plan{}, Files: files, Restored: []string{}}
	if status == "undone" {
		r.Restored = files
	}
	return r
}
