package patch

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/internal/lazyre"
)

// The Python entrypoint rule (documented in 'assay patch --help'): the
// import goes where the program starts, chosen in this order:
//  1. --entrypoint, when given;
//  2. the __main__ module: a package's __main__.py, or a file with an
//     `if __name__ == "__main__":` guard (test files excluded); with
//     several, the one with the most uninstrumented call sites, then the
//     shallowest path, then the first by name;
//  3. a [project.scripts] entry of pyproject.toml ("pkg.mod:func" ->
//     pkg/mod.py or src/pkg/mod.py), the first that exists;
//  4. the file scan ranks first (most uninstrumented call sites).
// Plan.EntrypointRule says which rule chose it.

// Entrypoint rule names, as Plan.EntrypointRule reports them.
const (
	RuleGiven    = "given with --entrypoint"
	RuleMain     = "the __main__ module"
	RuleScripts  = "the [project.scripts] entry"
	RuleScanRank = "the file with the most uninstrumented call sites"
)

var (
	mainGuard  = lazyre.New(`(?m)^if\s+__name__\s*==\s*['"]__main__['"]\s*:`)
	scriptLine = lazyre.New(`^\s*["']?[A-Za-z0-9_.-]+["']?\s*=\s*["']([A-Za-z0-9_.]+)(?::[A-Za-z0-9_.]+)?["']`)
)

// skipEntrypointDirs are not searched for a __main__ module.
var skipEntrypointDirs = map[string]bool{
	"node_modules": true, "__pycache__": true, "venv": true, "site-packages": true,
	"tests": true, "test": true, "build": true, "dist": true,
}

// chooseEntrypoint applies the rule (2-4) under root; counts are the
// uninstrumented call sites per file, scan's ranking.
func chooseEntrypoint(root string, counts []scan.FileCount) (string, string) {
	per := map[string]int{}
	for _, c := range counts {
		per[filepath.ToSlash(c.Path)] = c.Count
	}
	if m := mainModules(root); len(m) > 0 {
		sort.SliceStable(m, func(i, j int) bool {
			if per[m[i]] != per[m[j]] {
				return per[m[i]] > per[m[j]]
			}
			if di, dj := strings.Count(m[i], "/"), strings.Count(m[j], "/"); di != dj {
				return di < dj
			}
			return m[i] < m[j]
		})
		return m[0], RuleMain
	}
	if s := projectScript(root); s != "" {
		return s, RuleScripts
	}
	if len(counts) > 0 {
		return counts[0].Path, RuleScanRank
	}
	return "", ""
}

// mainModules lists the __main__ modules under root (relative, slashes),
// at most four directories deep.
func mainModules(root string) []string {
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || skipEntrypointDirs[name] || strings.HasPrefix(name, "proof_pack")) {
				return filepath.SkipDir
			}
			if strings.Count(rel, "/") >= 4 {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !d.Type().IsRegular() || !strings.HasSuffix(name, ".py") || name == ShimFile ||
			strings.HasPrefix(name, "test_") || strings.HasSuffix(name, "_test.py") || name == "conftest.py" || name == "setup.py" {
			return nil
		}
		if name == "__main__.py" {
			out = append(out, rel)
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && len(b) < 4<<20 && mainGuard().Match(b) {
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// projectScript resolves the first [project.scripts] entry of
// root/pyproject.toml to a module file that exists.
func projectScript(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "pyproject.toml"))
	if err != nil {
		return ""
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			in = l == "[project.scripts]"
			continue
		}
		m := scriptLine().FindStringSubmatch(l)
		if !in || m == nil {
			continue
		}
		mod := strings.ReplaceAll(m[1], ".", "/")
		for _, cand := range []string{mod + ".py", mod + "/__main__.py", mod + "/__init__.py", "src/" + mod + ".py", "src/" + mod + "/__init__.py"} {
			if st, err := os.Lstat(filepath.Join(root, cand)); err == nil && st.Mode().IsRegular() {
				return cand
			}
		}
	}
	return ""
}
