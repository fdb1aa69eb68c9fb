package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/scan/python"
	"github.com/assay-dev/assay/core/scan/typescript"
)

// What "instrumented" means. scan decides it, and patch (which plans from
// scan's findings), coverage contracts (which copy the flag) and doctor
// (which runs scan) all take scan's answer, so the four never disagree.
//
// A call site is instrumented when a receipt will be recorded for it
// without further changes to the code:
//
//   - Python, per file (the reference's rule, scanner.md §1.5): the file
//     imports or calls emit_receipt, imports one of the reference's
//     assay.integrations modules, or imports our capture shim.
//   - Python, per project: a file that imports our capture shim (the line
//     `assay patch` inserts, with the shim module beside it) wraps the
//     installed SDKs for the whole process, so every openai, anthropic,
//     google and litellm call site of the same Python project is
//     instrumented too. The project is the nearest directory above the
//     file holding pyproject.toml, setup.py or setup.cfg, or else the
//     scanned root. Test files are left out: a test runner does not start
//     at the patched entrypoint. (The reference's own integrations keep
//     its per-file rule, so its trees scan exactly as it scans them.)
//   - Go: the SDK client is built with assay's capture middleware (golang).
//   - TS/JS: the file, or its npm package, imports assay's capture module,
//     or the file sends the gateway's per-site header (typescript).

// shimFrameworks are the frameworks the capture shim wraps process-wide
// (FrameworkOf names).
var shimFrameworks = map[string]bool{"openai": true, "anthropic": true, "google": true, "litellm": true}

// projectMarkers name a Python project's root directory.
var projectMarkers = []string{"pyproject.toml", "setup.py", "setup.cfg"}

// mentionsEvidence reports whether src may hold instrumentation evidence,
// so the prefilter does not skip a file (an entrypoint with no LLM call of
// its own) whose imports decide other files' findings.
func mentionsEvidence(src []byte) bool {
	return bytes.Contains(src, []byte(ShimModule)) || bytes.Contains(src, []byte("assay.integrations")) ||
		bytes.Contains(src, []byte("emit_receipt"))
}

// pythonEvidence classifies a parsed file's instrumentation evidence:
// ref for the reference's markers (emit_receipt, assay.integrations.*),
// shim for an import of our capture shim.
func pythonEvidence(f *python.File) (ref, shim bool) {
	for _, im := range f.Imports {
		if im.Module == ShimModule || strings.HasPrefix(im.Module, ShimModule+".") {
			shim = true
		}
		if !im.From {
			if containsReferenceEvidence(im.Module) {
				ref = true
			}
			continue
		}
		if isEvidence(im.Module) {
			ref = true
		}
		for _, n := range im.Names {
			if n == ShimModule && im.Module == "" {
				shim = true // from . import assay_capture
			}
			full := n
			if im.Module != "" {
				full = im.Module + "." + n
			}
			if isEvidence(n) || containsReferenceEvidence(full) {
				ref = true
			}
		}
	}
	for _, c := range f.Calls {
		if last := lastComponent(c.Name); c.Name != "" && (last == "emit_receipt" || last == "_assay_emit") {
			ref = true
		}
	}
	return ref, shim
}

// applyProjectCapture marks the Python findings covered by a shim import
// in the same project (see the rules above). shimFiles are the relative
// paths of files that import the shim.
func applyProjectCapture(res *Result, root *os.Root, shimFiles []string) {
	if len(shimFiles) == 0 {
		return
	}
	proj := projectFinder{root: root, cache: map[string]string{}}
	captured := map[string]bool{}
	for _, p := range shimFiles {
		// The import only works with the shim module beside the file.
		dir := filepath.Dir(p)
		if _, err := root.Stat(filepath.Join(dir, ShimModule+".py")); err != nil {
			continue
		}
		captured[proj.of(dir)] = true
	}
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Lang != "python" || f.Instrumented || IsTest(f.Path) || !shimFrameworks[FrameworkOf(*f)] {
			continue
		}
		if captured[proj.of(filepath.Dir(f.Path))] {
			f.Instrumented, f.Fix = true, ""
		}
	}
}

// projectFinder finds (and remembers) the Python project directory of a
// directory relative to the scanned root.
type projectFinder struct {
	root  *os.Root
	cache map[string]string
}

func (p *projectFinder) of(dir string) string {
	dir = filepath.Clean(dir)
	if v, ok := p.cache[dir]; ok {
		return v
	}
	out := "."
	if dir != "." {
		out = p.of(filepath.Dir(dir))
	}
	for _, m := range projectMarkers {
		if fi, err := p.root.Stat(filepath.Join(dir, m)); err == nil && fi.Mode().IsRegular() {
			out = dir
			break
		}
	}
	p.cache[dir] = out
	return out
}

// IsTestPath reports whether a finding's file is test code: Python and Go
// by the reference's report rule (IsTest), TS/JS by the typescript rule
// (tests/, __tests__/, *.test.ts, *.spec.js ...).
func IsTestPath(path, lang string) bool {
	if lang == "typescript" {
		return typescript.IsTestPath(path)
	}
	return IsTest(path)
}

// ownFixes gives the uninstrumented Python findings this tool's fix texts
// when the project does not use the reference's package.
func ownFixes(res *Result) {
	if res.UsesReferencePackage {
		return
	}
	for i := range res.Findings {
		if f := &res.Findings[i]; f.Lang == "python" && !f.Instrumented {
			f.Fix = ownFixFor(*f)
		}
	}
}

// markTests marks the findings in test code and, with exclude, drops them.
func markTests(res *Result, exclude bool) {
	kept := res.Findings[:0]
	for _, f := range res.Findings {
		f.InTestPath = f.InTestPath || IsTestPath(f.Path, f.Lang)
		if exclude && f.InTestPath {
			res.ExcludedTests++
			continue
		}
		kept = append(kept, f)
	}
	res.Findings = kept
}

// TestCode counts the findings in test code, apart from the rest; the
// scan document carries it when there are any (or when they were left out).
type TestCode struct {
	SitesTotal     int  `json:"sites_total"`
	Uninstrumented int  `json:"uninstrumented"`
	Excluded       bool `json:"excluded,omitempty"`
}

// TestCode returns the test-code counts, nil when the scan has none.
func (r *Result) TestCode() *TestCode {
	if r.ExcludedTests > 0 {
		return &TestCode{SitesTotal: r.ExcludedTests, Excluded: true}
	}
	var t TestCode
	for _, f := range r.Findings {
		if f.InTestPath {
			t.SitesTotal++
			if !f.Instrumented {
				t.Uninstrumented++
			}
		}
	}
	if t.SitesTotal == 0 {
		return nil
	}
	return &t
}
