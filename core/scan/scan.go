// Package scan finds LLM call sites in a source tree and says which ones
// emit evidence. Python follows the reference's rules exactly (scanner.md
// §1: call strings, tiers, framework guard, per-file instrumentation,
// ignore rules, ordering); Go source is scanned with go/ast rules for the
// Go SDKs (see core/scan/golang). The package also builds the coverage
// contract, the summary and next steps, SARIF and the HTML report.
package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/scan/golang"
	"github.com/assay-dev/assay/core/scan/python"
	"github.com/assay-dev/assay/core/scan/typescript"
)

// Finding is one call site, with the reference's JSON keys and order.
type Finding struct {
	Path         string `json:"path"`
	Line         int    `json:"line"`
	Call         string `json:"call"`
	Confidence   string `json:"confidence"`
	Instrumented bool   `json:"instrumented"`
	Fix          string `json:"fix,omitempty"`
	Framework    string `json:"framework,omitempty"`
	// InTestPath marks a finding in test code (IsTestPath); absent
	// otherwise. It is the one key a finding has beyond the reference's.
	InTestPath bool `json:"in_test_path,omitempty"`
	// Lang is "python", "go" or "typescript" (not in the reference's JSON).
	Lang string `json:"-"`
}

// Skipped is a file that was not analysed and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	// Refused is set for a file the scan would not open or read whole: a
	// link out of the scanned root, a FIFO or device, a file over the byte
	// cap. (Unparseable files are skipped silently, as the reference does.)
	Refused bool `json:"-"`
}

// DefaultMaxFileBytes caps the bytes scan reads per file unless
// Options.MaxFileSize says otherwise.
const DefaultMaxFileBytes = 4 << 20

// Reasons given for refused files.
const (
	ReasonOutside    = "links outside the scanned root"
	ReasonNotRegular = "not a regular file"
)

// Result is a whole scan.
type Result struct {
	Root     string // absolute scan root
	Findings []Finding
	Skipped  []Skipped
	Files    int   // source files analysed or attempted
	Bytes    int64 // bytes read
	// UsesReferencePackage: some Python file imports or calls the
	// reference's package (emit_receipt, assay.integrations.*). Fix texts
	// and next steps then name that package, as the reference does;
	// otherwise they name this tool's commands.
	UsesReferencePackage bool
	// ExcludedTests counts the test-code findings Options.ExcludeTests
	// left out.
	ExcludedTests int
}

// Options tune a scan.
type Options struct {
	Include []string // fnmatch patterns; when set a file must match one
	Exclude []string // fnmatch patterns; matching files and directories are dropped
	// Workers parse files in parallel (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called after each file with the count done so
	// far and the total (from one goroutine at a time).
	Progress func(done, total int)
	// MaxFileSize skips larger files, listed as refused (0: the default
	// DefaultMaxFileBytes; negative: no cap).
	MaxFileSize int64
	// NoGo turns the Go and TS/JS rules off (Python only, exactly the
	// reference).
	NoGo bool
	// NoTS turns the TypeScript/JavaScript rules off.
	NoTS bool
	// ExcludeTests leaves findings in test code (IsTestPath) out of the
	// result; Result.ExcludedTests counts them.
	ExcludeTests bool
	// Root, when set, is the scan root already opened by a caller that
	// confines it (the MCP server, inside its own root); the path given to
	// Scan then only names it in the result.
	Root *os.Root
	// parseAll turns the byte prefilters off (every file is parsed); the
	// tests use it to check the prefilters drop no finding.
	parseAll bool
}

// prunedDirs are the reference's exact-name directory prunes (the literal
// "*.egg-info" is a name the reference compares by equality).
var prunedDirs = map[string]bool{
	".venv": true, "venv": true, "node_modules": true, ".git": true, "__pycache__": true,
	".tox": true, ".mypy_cache": true, ".pytest_cache": true, "dist": true, "build": true,
	".eggs": true, "challenge_pack": true, "*.egg-info": true,
}

// SplitList splits comma-separated flag values, trimming and dropping
// empty items, as the reference's --include/--exclude do.
func SplitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// ReadIgnore reads <root>/.assayignore: stripped lines, no blanks, no
// '#' comments. A link out of root, a FIFO or a file over 1 MiB is not
// read.
func ReadIgnore(root string) []string {
	data, err := fsutil.ReadFileConfined(root, ".assayignore", 1<<20)
	if err != nil {
		return nil
	}
	return ignoreLines(data)
}

func readIgnoreIn(root *os.Root) []string {
	data, err := fsutil.ReadFileIn(root, ".assayignore", 1<<20)
	if err != nil {
		return nil
	}
	return ignoreLines(data)
}

func ignoreLines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// CheckRoot resolves the scan target, returning the reference's exit-3
// errors for a missing path or a non-directory.
func CheckRoot(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", exit.Bad("pass a directory to scan", "Directory not found: %s", path)
	}
	st, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", exit.Bad("pass an existing directory to scan", "Directory not found: %s", path)
		}
		return "", exit.Bad("check the path and its permissions", "cannot read %s: %v", path, err)
	}
	if !st.IsDir() {
		return "", exit.Bad("pass the directory that contains it, e.g. 'assay scan "+filepath.Dir(path)+"'", "Not a directory: %s", path)
	}
	// Like the reference's Path.resolve(): a symlinked root is followed and
	// reported by its real path.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}

type job struct {
	rel, abs string
	goDir    string   // set for Go files: the package directory (relative)
	root     *os.Root // the scanned root; every read goes through it
	dialect  typescript.Dialect
}

// Scan walks root and analyses every .py file (and .go file unless NoGo).
// The walk and every read go through an os.Root opened on the scan root:
// links that leave it (files or directories) are never followed, FIFOs
// and devices are never opened for reading, and no file is read past the
// byte cap; each such file is listed in Skipped with the reason.
func Scan(root string, opt Options) (*Result, error) {
	abs, err := CheckRoot(root)
	if err != nil {
		return nil, err
	}
	if opt.MaxFileSize == 0 {
		opt.MaxFileSize = DefaultMaxFileBytes
	}
	fsRoot := opt.Root
	if fsRoot == nil {
		if fsRoot, err = os.OpenRoot(abs); err != nil {
			return nil, exit.Bad("check the directory's permissions", "cannot read %s: %v", root, fsutil.Reason(err))
		}
		defer fsRoot.Close()
	}
	excl := compileAll(append(append([]string{}, opt.Exclude...), readIgnoreIn(fsRoot)...))
	incl := compileAll(opt.Include)
	res := &Result{Root: abs}

	var pyJobs, tsJobs []job
	goDirs := map[string][]job{}
	var goOrder []string
	fast := newFastReader(fsRoot)
	defer fast.close()
	visit := func(slash string, d fs.DirEntry, err error) error {
		rel := filepath.FromSlash(slash)
		isRoot := slash == "."
		if err != nil {
			if isRoot {
				return err
			}
			// os.walk ignores unreadable directories; we say so.
			res.Skipped = append(res.Skipped, Skipped{Path: rel, Reason: "cannot read: " + errText(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if isRoot {
				return nil
			}
			name := d.Name()
			if prunedDirs[name] || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "proof_pack_") || matchAny(excl, rel) {
				return fs.SkipDir
			}
			return nil
		}
		isPy := strings.HasSuffix(d.Name(), ".py")
		isGo := !opt.NoGo && strings.HasSuffix(d.Name(), ".go")
		dialect, isTS := typescript.DialectOf(d.Name())
		isTS = isTS && !opt.NoGo && !opt.NoTS
		if !isPy && !isGo && !isTS {
			return nil
		}
		if matchAny(excl, rel) || (len(incl) > 0 && !matchAny(incl, rel)) {
			return nil
		}
		p := filepath.Join(abs, rel) // only for the files kept
		if isPy {
			pyJobs = append(pyJobs, job{rel: rel, abs: p, root: fsRoot})
		} else if isTS {
			tsJobs = append(tsJobs, job{rel: rel, abs: p, root: fsRoot, dialect: dialect})
		} else {
			dir := filepath.Dir(rel)
			if _, ok := goDirs[dir]; !ok {
				goOrder = append(goOrder, dir)
			}
			goDirs[dir] = append(goDirs[dir], job{rel: rel, abs: p, goDir: dir, root: fsRoot})
		}
		return nil
	}
	walked, walkErr := fast.walk(visit)
	if !walked {
		walkErr = fs.WalkDir(fsRoot.FS(), ".", visit)
	}
	if walkErr != nil {
		return nil, exit.Bad("check the directory's permissions", "cannot read %s: %v", root, walkErr)
	}

	total := len(pyJobs) + len(tsJobs)
	for _, d := range goOrder {
		total += len(goDirs[d])
	}
	res.Files = total
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type unit struct {
		py  *job
		ts  *job
		goJ []job
	}
	units := make([]unit, 0, len(pyJobs)+len(tsJobs)+len(goOrder))
	for i := range pyJobs {
		units = append(units, unit{py: &pyJobs[i]})
	}
	for i := range tsJobs {
		units = append(units, unit{ts: &tsJobs[i]})
	}
	for _, d := range goOrder {
		units = append(units, unit{goJ: goDirs[d]})
	}
	outs := make([]fileOut, len(units))
	var next, done atomic.Int64
	var progMu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One parser and one read buffer per worker, reused for
			// every file.
			var pp *python.Parser
			rd := fast.worker()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(units) {
					return
				}
				u := units[i]
				n := 1
				if u.py != nil {
					if pp == nil {
						pp = python.NewParser()
					}
					outs[i] = analysePython(*u.py, opt.MaxFileSize, pp, rd, opt.parseAll)
				} else if u.ts != nil {
					outs[i] = parseTS(*u.ts, opt.MaxFileSize, rd, opt.parseAll)
				} else {
					outs[i] = analyseGo(u.goJ, opt.MaxFileSize, rd)
					n = len(u.goJ)
				}
				d := done.Add(int64(n))
				if opt.Progress != nil {
					progMu.Lock()
					opt.Progress(int(d), total)
					progMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	var shimFiles []string
	for i, o := range outs {
		res.Findings = append(res.Findings, o.findings...)
		res.Skipped = append(res.Skipped, o.skipped...)
		res.Bytes += o.bytes
		res.UsesReferencePackage = res.UsesReferencePackage || o.refEvidence
		if o.shimImport {
			shimFiles = append(shimFiles, units[i].py.rel)
		}
	}
	if len(tsJobs) > 0 {
		res.Findings = append(res.Findings, analyseTS(abs, tsJobs, outs[len(pyJobs):len(pyJobs)+len(tsJobs)], opt.MaxFileSize, &res.Skipped)...)
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	sort.SliceStable(res.Skipped, func(i, j int) bool { return res.Skipped[i].Path < res.Skipped[j].Path })
	applyProjectCapture(res, fsRoot, shimFiles)
	ownFixes(res)
	markTests(res, opt.ExcludeTests)
	return res, nil
}

type fileOut struct {
	findings []Finding
	// refEvidence: the file uses the reference's Python package;
	// shimImport: it imports our capture shim (instrumentation.go).
	refEvidence, shimImport bool
	skipped                 []Skipped
	bytes                   int64
	ts                      *typescript.File // parsed TS/JS file (rules run once all are parsed)
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// readSource reads one file through the scan root: a link inside the root
// is followed (as the reference does), one out of it is refused, and so
// are FIFOs, devices and files over max bytes (max < 0: no cap).
func readSource(j job, max int64) ([]byte, *Skipped) {
	if max < 0 {
		max = 0
	}
	var src []byte
	var err error
	if j.root != nil {
		src, err = fsutil.ReadFileIn(j.root, j.rel, max)
	} else {
		// A job made without the walk's root: open the scan root for it.
		src, err = fsutil.ReadFileConfined(strings.TrimSuffix(j.abs, j.rel), j.rel, max)
	}
	switch {
	case err == nil:
		return src, nil
	case fsutil.IsOutside(err):
		return nil, &Skipped{Path: j.rel, Reason: ReasonOutside, Refused: true}
	case errors.Is(err, fsutil.ErrNotRegular):
		// A FIFO or device named *.py would block or never end.
		return nil, &Skipped{Path: j.rel, Reason: ReasonNotRegular, Refused: true}
	case errors.Is(err, fsutil.ErrTooLarge):
		return nil, &Skipped{Path: j.rel, Reason: fmt.Sprintf("larger than %d bytes", max), Refused: true}
	}
	return nil, &Skipped{Path: j.rel, Reason: "cannot read: " + errText(err)}
}

// readWith reads j on rd's fast path when it can, else through readSource;
// reuse: the bytes may live in rd's buffer (valid until its next read).
func readWith(rd *fastReader, j job, max int64, reuse bool) ([]byte, *Skipped) {
	if max < 0 {
		max = 0
	}
	if src, ok := rd.read(j.rel, max, reuse); ok {
		return src, nil
	}
	return readSource(j, max)
}

// analysePython applies the reference's rules to one file.
func analysePython(j job, max int64, pp *python.Parser, rd *fastReader, parseAll bool) fileOut {
	// The bytes are not kept past this call (the parse copies what it
	// returns), so the worker's buffer holds them.
	src, sk := readWith(rd, j, max, true)
	if sk != nil {
		return fileOut{skipped: []Skipped{*sk}}
	}
	out := fileOut{bytes: int64(len(src))}
	if !parseAll && !mayHaveFindings(src) && !mentionsEvidence(src) && python.Acceptable(src) == nil {
		// No rule can match anything in this file, and it holds no
		// instrumentation: skip the parse. (A file Parse would refuse is
		// still handed to it, for its reason.)
		return out
	}
	f, err := pp.Parse(src)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), python.ErrSkip.Error()+": ")
		out.skipped = []Skipped{{Path: j.rel, Reason: reason}}
		return out
	}
	out.findings = PythonFindings(j.rel, f)
	out.refEvidence, out.shimImport = pythonEvidence(f)
	return out
}

// mayHaveFindings is one pass of the rule-word automaton over src, then
// the rule table as a condition on the words found (prefilter.go).
func mayHaveFindings(src []byte) bool { return pyMayMatch(src, pyMatcher().set(src, pyAlone)) }

// PythonFindings turns a parsed file into findings (scanner.md §1.4–1.6).
func PythonFindings(rel string, f *python.File) []Finding {
	ref, shim := pythonEvidence(f)
	instrumented, guard := ref || shim, false
	for _, im := range f.Imports {
		if guardModule(im.Module) {
			guard = true
		}
	}
	var plain, held []Finding
	for _, c := range f.Calls {
		r, ok := classify(c.Name)
		if !ok {
			continue
		}
		fd := Finding{Path: rel, Line: c.Line, Call: c.Name, Confidence: r.tier, Framework: r.framework, Lang: "python"}
		if r.guarded {
			held = append(held, fd)
		} else {
			plain = append(plain, fd)
		}
	}
	if guard {
		plain = append(plain, held...)
	}
	for i := range plain {
		plain[i].Instrumented = instrumented
		if !instrumented {
			plain[i].Fix = fixFor(plain[i].Call)
		}
	}
	return plain
}

// analyseGo applies the Go rules to one package directory.
func analyseGo(js []job, max int64, rd *fastReader) fileOut {
	var out fileOut
	var files []golang.Source
	for _, j := range js {
		src, sk := readWith(rd, j, max, false)
		if sk != nil {
			out.skipped = append(out.skipped, *sk)
			continue
		}
		out.bytes += int64(len(src))
		files = append(files, golang.Source{Path: j.rel, Src: src})
	}
	sites, skipped := golang.Analyze(files)
	for _, s := range skipped {
		out.skipped = append(out.skipped, Skipped{Path: s.Path, Reason: s.Reason})
	}
	for _, s := range sites {
		f := Finding{Path: s.Path, Line: s.Line, Call: s.Call, Confidence: s.Confidence, Instrumented: s.Instrumented, Framework: s.Framework, Lang: "go"}
		if !s.Instrumented {
			f.Fix = s.Fix
		}
		out.findings = append(out.findings, f)
	}
	return out
}

func compileAll(pats []string) []Pattern {
	out := make([]Pattern, 0, len(pats))
	for _, p := range pats {
		out = append(out, Compile(p))
	}
	return out
}

func matchAny(ps []Pattern, rel string) bool {
	for _, p := range ps {
		if p.Match(rel) {
			return true
		}
	}
	return false
}
