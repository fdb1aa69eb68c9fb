// Package patch instruments source so every LLM call emits a receipt.
//
// Python: a small stdlib-only capture module of ours (assay_capture.py,
// embedded in the binary) is written beside the entrypoint, and one import
// line marked "# assay:patched" is inserted after the file's docstring and
// `from __future__` imports (inside a package, a two-line try of the
// relative import with the plain one as fallback, so the file runs both as
// part of its package and as a script). Importing it wraps the installed SDKs (openai,
// anthropic, google-genai, litellm), so calls anywhere in the process are
// recorded with their callsite_id.
//
// Go: SDK client constructors (openai-go, anthropic-sdk-go, genai,
// langchaingo) get assay's capture middleware as their HTTP client, through
// a generated helper file per package (AST rewrite, comments kept,
// gofmt'd).
//
// Every change is planned first (a unified diff for --dry-run), applied with
// a backup (<file>.assay.bak), compile-checked, and rolled back if the
// result does not compile. Undo restores the backed-up bytes exactly.
package patch

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/scan"
)

//go:embed assay_capture.py
var shimTemplate string

// Names and markers.
const (
	ShimFile      = scan.ShimModule + ".py"
	Marker        = "# assay:patched"
	ShimMarker    = "# assay:capture-shim"
	BackupExt     = ".assay.bak"
	LangchainNote = "LangChain is not patched automatically: run the program through assay's gateway (assay run --gateway -- python <entrypoint>) to record its provider calls."
	// LangchainNoteReference is the note for a project that already uses
	// the reference's Python package, which has a LangChain callback.
	LangchainNoteReference = "LangChain is not patched automatically: pass callbacks=[AssayCallbackHandler()] (from assay.integrations.langchain) to your chains and models, or run the program through assay's gateway (assay run --gateway)."
)

// Change is one file the plan writes.
type Change struct {
	Path    string // absolute
	Rel     string // relative to the root, for display
	Old     []byte // nil when the file is created
	New     []byte
	Created bool

	backupMade bool
}

// Plan is what a patch run will do.
type Plan struct {
	Root       string `json:"-"`
	Language   string `json:"language"`
	Entrypoint string `json:"entrypoint,omitempty"`
	// EntrypointRule says which rule chose the entrypoint (entrypoint.go).
	EntrypointRule string   `json:"entrypoint_rule,omitempty"`
	Frameworks     []string `json:"frameworks"`
	LinesToInsert  []string `json:"lines_to_insert"`
	InsertionLine  int      `json:"insertion_line"`
	AlreadyPatched bool     `json:"already_patched"`
	LangchainNote  string   `json:"langchain_note,omitempty"`
	Uninstrumented int      `json:"uninstrumented"`
	Notes          []string `json:"notes,omitempty"`
	Changes        []Change `json:"-"`
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Files lists the changed paths (relative).
func (p *Plan) Files() []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Rel)
	}
	return out
}

// Diff is the unified diff of every change (3 lines of context, headers
// a/<path> and b/<path>). Without full, generated files (the shim, the Go
// helper) are summarised in one line instead of printed whole.
func (p *Plan) Diff(full bool) string {
	var b strings.Builder
	for _, c := range p.Changes {
		from := "a/" + filepath.ToSlash(c.Rel)
		if c.Created {
			from = "/dev/null"
		}
		if base := filepath.Base(c.Path); !full && (base == NodeModuleCJS || base == NodeModuleESM) {
			fmt.Fprintf(&b, "--- %s\n+++ b/%s\n(generated: assay's capture module, %d lines)\n", from, filepath.ToSlash(c.Rel), strings.Count(string(c.New), "\n"))
			continue
		}
		if !full && (filepath.Base(c.Path) == ShimFile || filepath.Base(c.Path) == GoHelperFile) {
			fmt.Fprintf(&b, "--- %s\n+++ b/%s\n(generated: assay's capture %s, %d lines)\n", from, filepath.ToSlash(c.Rel), map[bool]string{true: "shim", false: "helper"}[filepath.Base(c.Path) == ShimFile], strings.Count(string(c.New), "\n"))
			continue
		}
		a := []string{}
		if len(c.Old) > 0 {
			a = difflib.SplitLines(string(c.Old))
		}
		d := difflib.UnifiedDiff{
			A: a, B: difflib.SplitLines(string(c.New)),
			FromFile: from, ToFile: "b/" + filepath.ToSlash(c.Rel), Context: 3,
		}
		s, _ := difflib.GetUnifiedDiffString(d)
		b.WriteString(s)
	}
	return b.String()
}

var patchable = map[string]bool{"openai": true, "anthropic": true, "google": true, "litellm": true}

// PlanPython plans the Python patch for a scan result. entrypoint, when
// set, is relative to the root; otherwise the entrypoint rule chooses it
// (entrypoint.go: the __main__ module, a [project.scripts] entry, the file
// with the most uninstrumented findings).
func PlanPython(res *scan.Result, entrypoint string) (*Plan, error) {
	p := &Plan{Root: res.Root, Language: "python", Frameworks: []string{}, LinesToInsert: []string{}}
	var un []scan.Finding
	for _, f := range res.Findings {
		if f.Lang == "python" && !f.Instrumented {
			un = append(un, f)
		}
	}
	p.Uninstrumented = len(un)
	fw := scan.Frameworks(un)
	for k := range fw {
		if patchable[k] {
			p.Frameworks = append(p.Frameworks, k)
		}
	}
	sort.Strings(p.Frameworks)
	if fw["langchain"] {
		p.LangchainNote = LangchainNote
		if res.UsesReferencePackage {
			p.LangchainNote = LangchainNoteReference
		}
	}
	if entrypoint == "" {
		if len(p.Frameworks) == 0 {
			return p, nil
		}
		r := &scan.Result{Findings: un}
		entrypoint, p.EntrypointRule = chooseEntrypoint(res.Root, r.UninstrumentedByFile())
	} else {
		p.EntrypointRule = RuleGiven
	}
	entrypoint, err := Confine(res.Root, entrypoint)
	if err != nil {
		return nil, err
	}
	abs := filepath.Join(res.Root, entrypoint)
	src, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exit.Bad("pass a file relative to the project root", "entrypoint not found: %s", entrypoint)
		}
		return nil, exit.Bad("check the file's permissions", "cannot read entrypoint %s: %v", entrypoint, err)
	}
	p.Entrypoint = filepath.ToSlash(entrypoint)
	lines := []string{"import " + scan.ShimModule + "  " + Marker}
	if fsutil.Exists(filepath.Join(filepath.Dir(abs), "__init__.py")) {
		// Inside a package the shim is a sibling module: a relative import
		// when run as part of the package (python -m pkg.main), a plain one
		// when the file is run as a script (python pkg/main.py), where the
		// relative import alone raised ImportError.
		lines = []string{
			"try: from . import " + scan.ShimModule + "  " + Marker,
			"except ImportError: import " + scan.ShimModule + "  " + Marker,
		}
	}
	line := strings.Join(lines, "\n")
	p.LinesToInsert = lines
	if alreadyPatched(src) {
		p.AlreadyPatched = true
	} else {
		at, ok := headerEnd(src)
		if !ok {
			return nil, exit.Bad("fix the syntax error first (python3 -m py_compile "+entrypoint+")", "entrypoint %s does not parse", entrypoint)
		}
		p.InsertionLine = at
		p.Changes = append(p.Changes, Change{Path: abs, Rel: entrypoint, Old: src, New: insertLine(src, at, line)})
	}
	shimPath := filepath.Join(filepath.Dir(abs), ShimFile)
	shim := renderShim(res.Root, filepath.Dir(abs))
	old, err := os.ReadFile(shimPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.Changes = append(p.Changes, Change{Path: shimPath, Rel: relTo(res.Root, shimPath), New: shim, Created: true})
	case err != nil:
		return nil, exit.Bad("check the directory's permissions", "cannot read %s: %v", shimPath, err)
	case !strings.HasPrefix(string(old), ShimMarker):
		return nil, exit.Bad("rename your module or pass another --entrypoint", "%s exists and is not assay's capture shim", relTo(res.Root, shimPath))
	case string(old) != string(shim):
		p.Changes = append(p.Changes, Change{Path: shimPath, Rel: relTo(res.Root, shimPath), Old: old, New: shim})
	}
	return p, nil
}

// Confine returns entrypoint as a clean path relative to root, refusing
// one that leads out of the project: patch writes beside the entrypoint,
// and must never write outside the tree it was pointed at. An absolute
// path inside root is accepted and made relative.
func Confine(root, entrypoint string) (string, error) {
	rel := filepath.Clean(entrypoint)
	if filepath.IsAbs(rel) {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", root, err)
		}
		r, err := filepath.Rel(absRoot, rel)
		if err != nil {
			return "", exit.Bad("pass a file inside the project, relative to its root", "entrypoint %s is outside the project %s", entrypoint, root)
		}
		rel = r
	}
	if rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", exit.Bad("pass a file inside the project, relative to its root", "entrypoint %s is outside the project %s", entrypoint, root)
	}
	return rel, nil
}

func relTo(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}

// renderShim fills in the path from the shim's directory to the root, so
// call sites are reported relative to the scanned root whatever the
// working directory.
func renderShim(root, dir string) []byte {
	rel, err := filepath.Rel(dir, root)
	if err != nil {
		rel = "."
	}
	return []byte(strings.Replace(shimTemplate, "__ASSAY_ROOT_REL__", strings.ReplaceAll(filepath.ToSlash(rel), `"`, `\"`), 1))
}

func alreadyPatched(src []byte) bool {
	for _, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, Marker) && strings.Contains(l, scan.ShimModule) {
			return true
		}
	}
	return false
}

// insertLine inserts text as line number at (0-based), keeping the file's
// line ending style and never gluing onto a last line without a newline.
func insertLine(src []byte, at int, text string) []byte {
	nl := "\n"
	if strings.Contains(string(src), "\r\n") {
		nl = "\r\n"
	}
	s := string(src)
	off := 0
	for i := 0; i < at; i++ {
		j := strings.IndexByte(s[off:], '\n')
		if j < 0 {
			off = len(s)
			break
		}
		off += j + 1
	}
	prefix := s[:off]
	if prefix != "" && !strings.HasSuffix(prefix, "\n") {
		prefix += nl
	}
	return []byte(prefix + strings.ReplaceAll(text, "\n", nl) + nl + s[off:])
}
