package patch

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/scan/typescript"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Node: assay's capture module (assay_capture.cjs, plus assay_capture.mjs
// for ES modules; embedded, no dependencies) is written beside the
// program's entrypoint and imported once at its top. It wraps fetch and
// the SDK methods, so every LLM call of the process is recorded.

//go:embed assay_capture.cjs
var nodeModuleCJS string

//go:embed assay_capture.mjs
var nodeModuleESM string

// Node capture module names and marker.
const (
	NodeModuleCJS = typescript.CaptureModule + ".cjs"
	NodeModuleESM = typescript.CaptureModule + ".mjs"
	NodeMarker    = "assay:capture-module"
	NodeLineMark  = "// assay:patched"
)

// packageJSON is the part of package.json patch reads.
type packageJSON struct {
	Type    string            `json:"type"`
	Main    string            `json:"main"`
	Module  string            `json:"module"`
	Bin     json.RawMessage   `json:"bin"`
	Scripts map[string]string `json:"scripts"`
}

// useDirective matches a "use strict"-style directive line.
var useDirective = lazyre.New(`^['"]use [a-z ]+['"];?$`)

var scriptFile = lazyre.New(`(?:^|\s)([^\s'"]+\.(?:[cm]?[jt]s|tsx|jsx))(?:\s|$)`)

// nodeEntrypoint picks a package's entrypoint: package.json main, then
// bin, then the file `scripts.start` runs (node/tsx/ts-node FILE). A main
// that points at build output (dist/x.js) that has a source (src/x.ts) is
// patched in the source. Returns "" when none exists.
func nodeEntrypoint(root, pkgDir string) (string, *packageJSON, error) {
	raw, err := os.ReadFile(filepath.Join(root, pkgDir, "package.json"))
	if err != nil {
		return "", nil, err
	}
	var pj packageJSON
	if err := json.Unmarshal(raw, &pj); err != nil {
		return "", nil, exit.Bad("fix package.json or pass --entrypoint", "%s: package.json is not valid JSON: %v", filepath.Join(pkgDir, "package.json"), err)
	}
	var cands []string
	cands = append(cands, pj.Main)
	var bin string
	if json.Unmarshal(pj.Bin, &bin) == nil {
		cands = append(cands, bin)
	} else {
		var bins map[string]string
		if json.Unmarshal(pj.Bin, &bins) == nil {
			keys := make([]string, 0, len(bins))
			for k := range bins {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				cands = append(cands, bins[k])
			}
		}
	}
	if s := pj.Scripts["start"]; s != "" {
		for _, m := range scriptFile().FindAllStringSubmatch(s, -1) {
			cands = append(cands, m[1])
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		c = filepath.Clean(filepath.FromSlash(c))
		for _, alt := range sourceOf(c) {
			rel := filepath.Join(pkgDir, alt)
			if _, err := Confine(root, rel); err != nil {
				continue
			}
			if isFile(filepath.Join(root, rel)) {
				if _, ok := typescript.DialectOf(rel); ok {
					return rel, &pj, nil
				}
			}
		}
	}
	return "", &pj, nil
}

// sourceOf lists where an entrypoint's source may be: itself, then the
// TypeScript source of built output (dist|build|lib/x.js -> src/x.ts).
func sourceOf(p string) []string {
	out := []string{p}
	ext := filepath.Ext(p)
	base := strings.TrimSuffix(p, ext)
	tsExt := map[string]string{".js": ".ts", ".mjs": ".mts", ".cjs": ".cts", "": ".ts"}[ext]
	if tsExt != "" {
		out = append(out, base+tsExt)
		if ext == ".js" {
			out = append(out, base+".tsx")
		}
		parts := strings.SplitN(filepath.ToSlash(base), "/", 2)
		if len(parts) == 2 && (parts[0] == "dist" || parts[0] == "build" || parts[0] == "lib" || parts[0] == "out") {
			out = append(out, filepath.FromSlash("src/"+parts[1]+tsExt), filepath.FromSlash("src/"+parts[1]+ext))
		}
	}
	if ext == "" {
		out = append(out, p+".js", filepath.Join(p, "index.js"), filepath.Join(p, "index.ts"))
	}
	return out
}

// isESM reports whether the entrypoint runs as an ES module.
func isESM(entry string, pj *packageJSON, src []byte) bool {
	switch filepath.Ext(entry) {
	case ".mjs", ".mts":
		return true
	case ".cjs", ".cts":
		return false
	}
	return pj != nil && pj.Type == "module"
}

// nodeImportLine is the one line patch inserts.
func nodeImportLine(entry string, pj *packageJSON, src []byte) string {
	ext := filepath.Ext(entry)
	isTS := ext == ".ts" || ext == ".tsx" || ext == ".mts" || ext == ".cts"
	switch {
	case isESM(entry, pj, src):
		return "import './" + NodeModuleESM + "'; " + NodeLineMark
	case isTS:
		// Compiled (or run by tsx/ts-node) as CommonJS: the import becomes a
		// require of the CommonJS module.
		return "import './" + NodeModuleCJS + "'; " + NodeLineMark
	}
	return "require('./" + NodeModuleCJS + "'); " + NodeLineMark
}

// nodeHeaderEnd is the line the import goes before: after a shebang and
// leading directive prologue ('use strict', 'use client') and comments
// around it, so the module loads before any SDK does.
func nodeHeaderEnd(src []byte) int {
	lines := strings.Split(string(src), "\n")
	i := 0
	if len(lines) > 0 && strings.HasPrefix(lines[0], "#!") {
		i = 1
	}
	for j := i; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		switch {
		case t == "" || strings.HasPrefix(t, "//"):
			continue
		case useDirective().MatchString(t):
			i = j + 1
			continue
		}
		break
	}
	return i
}

func nodeAlreadyPatched(src []byte) bool {
	for _, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, NodeLineMark) && strings.Contains(l, typescript.CaptureModule) {
			return true
		}
	}
	return false
}

func renderNodeModule(tpl, root, dir string) []byte {
	rel, err := filepath.Rel(dir, root)
	if err != nil {
		rel = "."
	}
	return []byte(strings.Replace(tpl, "__ASSAY_ROOT_REL__", strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(filepath.ToSlash(rel)), 1))
}

// PlanNode plans the Node patch: for every package (directory with a
// package.json, or the root) holding uninstrumented TS/JS call sites, the
// entrypoint gets one import line and the capture module is written beside
// it. entrypoint, when set, is the one file to patch (relative to root).
func PlanNode(res *scan.Result, entrypoint string) (*Plan, error) {
	p := &Plan{Root: res.Root, Language: "node", Frameworks: []string{}, LinesToInsert: []string{}}
	fws := map[string]bool{}
	pkgs := map[string]bool{}
	for _, f := range res.Findings {
		if f.Lang != "typescript" || f.Instrumented {
			continue
		}
		p.Uninstrumented++
		if f.Framework != "" {
			fws[f.Framework] = true
		}
		pkgs[packageDir(res.Root, filepath.Dir(f.Path))] = true
	}
	for fw := range fws {
		p.Frameworks = append(p.Frameworks, fw)
	}
	sort.Strings(p.Frameworks)
	var entries []string
	var pjs []*packageJSON
	if entrypoint != "" {
		ep, err := Confine(res.Root, entrypoint)
		if err != nil {
			return nil, err
		}
		if !isFile(filepath.Join(res.Root, ep)) {
			return nil, exit.Bad("pass a file relative to the project root", "entrypoint not found: %s", entrypoint)
		}
		var pj *packageJSON
		if _, q, err := nodeEntrypoint(res.Root, packageDir(res.Root, filepath.Dir(ep))); err == nil {
			pj = q
		}
		entries, pjs = []string{ep}, []*packageJSON{pj}
	} else {
		dirs := make([]string, 0, len(pkgs))
		for d := range pkgs {
			dirs = append(dirs, d)
		}
		sort.Strings(dirs)
		for _, d := range dirs {
			ep, pj, err := nodeEntrypoint(res.Root, d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			if ep == "" {
				p.Notes = append(p.Notes, fmt.Sprintf("%s: no entrypoint found (package.json main, bin or scripts.start); pass --entrypoint FILE", filepath.Join(d, "package.json")))
				continue
			}
			entries, pjs = append(entries, ep), append(pjs, pj)
		}
	}
	for i, ep := range entries {
		abs := filepath.Join(res.Root, ep)
		src, err := os.ReadFile(abs)
		if err != nil {
			return nil, exit.Bad("check the file's permissions", "cannot read entrypoint %s: %v", ep, err)
		}
		if p.Entrypoint == "" {
			p.Entrypoint = filepath.ToSlash(ep)
		}
		line := nodeImportLine(ep, pjs[i], src)
		p.LinesToInsert = append(p.LinesToInsert, line)
		if nodeAlreadyPatched(src) {
			p.AlreadyPatched = true
		} else {
			at := nodeHeaderEnd(src)
			if i == 0 {
				p.InsertionLine = at
			}
			p.Changes = append(p.Changes, Change{Path: abs, Rel: ep, Old: src, New: insertLine(src, at, line)})
		}
		for _, m := range []struct{ name, tpl string }{{NodeModuleCJS, nodeModuleCJS}, {NodeModuleESM, nodeModuleESM}} {
			mp := filepath.Join(filepath.Dir(abs), m.name)
			want := renderNodeModule(m.tpl, res.Root, filepath.Dir(abs))
			old, err := os.ReadFile(mp)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				p.Changes = append(p.Changes, Change{Path: mp, Rel: relTo(res.Root, mp), New: want, Created: true})
			case err != nil:
				return nil, exit.Bad("check the directory's permissions", "cannot read %s: %v", mp, err)
			case !bytes.Contains(old, []byte(NodeMarker)):
				return nil, exit.Bad("rename your module or pass another --entrypoint", "%s exists and is not assay's capture module", relTo(res.Root, mp))
			case !bytes.Equal(old, want):
				p.Changes = append(p.Changes, Change{Path: mp, Rel: relTo(res.Root, mp), Old: old, New: want})
			}
		}
	}
	return p, nil
}

// packageDir is the nearest directory at or above dir (relative to root)
// with a package.json, or "." when there is none.
func packageDir(root, dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if isFile(filepath.Join(root, d, "package.json")) {
			return d
		}
		if d == "." || d == "" || d == string(filepath.Separator) {
			return "."
		}
	}
}

// NodeChecker returns the check for a Node plan, taken before it is
// applied: every written .js/.cjs/.mjs must pass `node --check`, and where
// the package has a tsconfig.json and a TypeScript compiler (its own
// node_modules/.bin/tsc, else tsc on PATH) `tsc --noEmit` must still pass
// if it passed before the patch.
func NodeChecker(p *Plan) Checker {
	type tscRun struct{ dir, tsc string }
	var tscs []tscRun
	seen := map[string]bool{}
	for _, c := range p.Changes {
		if c.Created {
			continue
		}
		rel := packageDir(p.Root, filepath.Dir(c.Rel))
		dir := filepath.Join(p.Root, rel)
		if seen[dir] || !isFile(filepath.Join(dir, "tsconfig.json")) {
			continue
		}
		seen[dir] = true
		tsc := filepath.Join(dir, "node_modules", ".bin", "tsc")
		if !isFile(tsc) {
			if tsc, _ = exec.LookPath("tsc"); tsc == "" {
				continue
			}
		}
		// Only a project that type-checks now must type-check after.
		if exec.Command(tsc, "--noEmit", "-p", dir).Run() == nil {
			tscs = append(tscs, tscRun{dir, tsc})
		}
	}
	return func(p *Plan) error {
		node, err := exec.LookPath("node")
		for _, c := range p.Changes {
			switch filepath.Ext(c.Path) {
			case ".js", ".cjs", ".mjs":
			default:
				continue
			}
			if err != nil {
				break // no node: nothing to check the JavaScript with
			}
			if out, err := exec.Command(node, "--check", c.Path).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %s", c.Rel, firstLine(out))
			}
		}
		for _, t := range tscs {
			if out, err := exec.Command(t.tsc, "--noEmit", "-p", t.dir).CombinedOutput(); err != nil {
				return fmt.Errorf("tsc --noEmit -p %s: %s", relTo(p.Root, t.dir), firstLine(out))
			}
		}
		return nil
	}
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// removeNodeModules deletes the capture module files beside a restored
// entrypoint (only ours, by marker).
func removeNodeModules(dir string) {
	removeOurs(filepath.Join(dir, NodeModuleCJS), NodeMarker)
	removeOurs(filepath.Join(dir, NodeModuleESM), NodeMarker)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
