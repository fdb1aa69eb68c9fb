package flows

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxQuickstartPyFiles is the Python file count above which quickstart
// refuses a tree as "looks like a system directory" (runtime.md §3.2).
const MaxQuickstartPyFiles = 10000

// QuickstartReport is the scan report quickstart writes into the project.
const QuickstartReport = "assay_quickstart_report.html"

// errTooMany stops the walk early.
var errTooMany = errors.New("too many python files")

// GuardDir refuses directories quickstart should not scan without --force:
// the home directory, /, /home and /Users, and trees with more than
// MaxQuickstartPyFiles Python files (counting stops early). The error is bad
// input (exit 3) naming the directory and the fix.
func GuardDir(path, home string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return badDir(path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return badDir(path, err)
	}
	if !st.IsDir() {
		return exitBad("pass a project directory", "%s is not a directory", path)
	}
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	ra := real(abs)
	refused := []string{"/", "/home", "/Users"}
	if home != "" {
		refused = append(refused, home)
	}
	for _, r := range refused {
		if ra == real(r) {
			return exitBad("cd your-project && assay quickstart, or pass --force", "%s is a home or system directory; scanning it may take a long time", abs)
		}
	}
	n := 0
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && p != abs {
				return fs.SkipDir // unreadable subtree: not ours to judge
			}
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "__pycache__":
				if p != abs {
					return fs.SkipDir
				}
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".py") {
			n++
			if n > MaxQuickstartPyFiles {
				return errTooMany
			}
		}
		return nil
	})
	if errors.Is(err, errTooMany) {
		return exitBad("cd your-project && assay quickstart, or pass --force", "%s has more than %d Python files; it looks like a system directory", abs, MaxQuickstartPyFiles)
	}
	return nil
}

func badDir(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return exitBad("pass an existing project directory", "%s does not exist", path)
	}
	return exitBad("pass a readable project directory", "cannot read %s: %v", path, err)
}

// Quickstart is the flow `assay quickstart` applies: the demo pair (good
// and tampered, both verified with their expected exit codes), then a scan
// of the project with an HTML report. It is not in the registry: it is the
// body of a command, not a flow users pick.
func Quickstart() *Flow {
	return &Flow{
		Name:    "quickstart",
		Summary: "Demo packs, verified, plus a scan report of this project",
		build: func(dir string, _ map[string]string) ([]Step, error) {
			steps, err := buildTry(dir, map[string]string{"out": "challenge_pack"})
			if err != nil {
				return nil, err
			}
			steps = steps[:3] // demo, verify good, verify tampered
			steps = append(steps, Step{ID: "scan", Title: "Scan this project for LLM call sites",
				Why:  "the report lists every call site and whether it leaves evidence",
				Argv: []string{AssayArg0, "scan", ".", "--exclude", "challenge_pack/**", "--report", QuickstartReport}})
			return steps, nil
		},
	}
}
