package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/scan/typescript"
)

// tsCandidates are byte strings (lower-cased) at least one of which every
// TS/JS file with a finding contains: an SDK module name, a chain the
// rules accept without an import, or a LOW helper name. Files with none are
// not parsed, except for the re-export pass below.
var tsCandidates = func() [][]byte {
	ws := []string{"openai", "anthropic", "@google/", "langchain", "mastra", "completions", "generatecontent",
		"'ai'", `"ai"`, "'ai/", `"ai/`, "`ai`", "assay_capture", "x-assay-callsite"}
	for n := range lowNames {
		ws = append(ws, n, strings.ReplaceAll(n, "_", ""))
	}
	out := make([][]byte, len(ws))
	for i, w := range ws {
		out[i] = []byte(w)
	}
	return out
}()

func tsMayHaveFindings(src []byte) bool { return tsMatcher().match(src) }

// parseTS reads and parses one TS/JS file; force skips the prefilter.
func parseTS(j job, max int64, rd *fastReader, force bool) fileOut {
	src, sk := readWith(rd, j, max, false)
	if sk != nil {
		return fileOut{skipped: []Skipped{*sk}}
	}
	out := fileOut{bytes: int64(len(src))}
	if !force && !tsMayHaveFindings(src) {
		return out
	}
	f, err := typescript.Parse(src, j.dialect)
	if err != nil {
		out.skipped = []Skipped{{Path: j.rel, Reason: strings.TrimPrefix(err.Error(), typescript.ErrSkip.Error()+": ")}}
		return out
	}
	out.ts = f
	return out
}

// analyseTS runs the TS/JS rules over every parsed file at once (imports
// are followed through the project's re-exports). A file the prefilter
// left out is parsed after all when it may import a module that
// re-exports an SDK (its text names that module).
func analyseTS(root string, jobs []job, outs []fileOut, max int64, skipped *[]Skipped) []Finding {
	var stems []string
	for i, o := range outs {
		if o.ts != nil && len(o.ts.ReExports) > 0 {
			b := filepath.Base(jobs[i].rel)
			b = strings.TrimSuffix(b, filepath.Ext(b))
			if b == "index" {
				b = filepath.Base(filepath.Dir(jobs[i].rel))
			}
			stems = append(stems, b)
		}
	}
	if len(stems) > 0 {
		for i, o := range outs {
			if o.ts != nil || len(o.skipped) > 0 {
				continue
			}
			src, sk := readSource(jobs[i], max)
			if sk != nil {
				continue
			}
			for _, st := range stems {
				if bytes.Contains(src, []byte(st)) {
					p := parseTS(jobs[i], max, nil, true)
					outs[i].ts = p.ts
					*skipped = append(*skipped, p.skipped...)
					break
				}
			}
		}
	}
	pkgOf := map[string]string{}
	var pkg func(dir string) string
	pkg = func(dir string) string {
		if p, ok := pkgOf[dir]; ok {
			return p
		}
		p := "."
		if _, err := os.Stat(filepath.Join(root, dir, "package.json")); err == nil {
			p = dir
		} else if dir != "." && dir != "" {
			p = pkg(filepath.Dir(dir))
		}
		pkgOf[dir] = p
		return p
	}
	var srcs []typescript.Source
	for i, o := range outs {
		if o.ts != nil {
			srcs = append(srcs, typescript.Source{Path: jobs[i].rel, File: o.ts, Pkg: pkg(filepath.Dir(jobs[i].rel))})
		}
	}
	var out []Finding
	for _, s := range typescript.Analyze(srcs) {
		f := Finding{Path: s.Path, Line: s.Line, Call: s.Call, Confidence: s.Confidence, Instrumented: s.Instrumented, Framework: s.Framework, InTestPath: s.InTestPath, Lang: "typescript"}
		if !s.Instrumented {
			f.Fix = FixTS
		}
		out = append(out, f)
	}
	return out
}

// FixTS is the fix suggested for an uninstrumented TS/JS call site.
const FixTS = "assay patch .  # imports assay's capture module at your package.json entrypoint"

// MixedLanguages reports whether the findings include TS/JS sites or span
// more than one language: then reports carry a language column.
func (r *Result) MixedLanguages() bool {
	seen := map[string]bool{}
	for _, f := range r.Findings {
		seen[f.Lang] = true
	}
	return seen["typescript"] || len(seen) > 1
}
