package main

import (
	"errors"
	"fmt"
	"github.com/assay-dev/assay/core/suggest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/pyjson"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/version"
)

const defaultReportPath = "evidence_gap_report.html"

type scanFlags struct {
	asJSON       bool
	format       string
	report       string
	reportPath   string
	contract     string
	includeLow   bool
	ci           bool
	failOn       string
	include      []string
	exclude      []string
	noGo         bool
	noTS         bool
	excludeTests bool
	maxFileSize  int64
	workers      int
	progressMin  int
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var o scanFlags
		c := &cobra.Command{
			Use:   "scan [PATH]",
			Short: "Find LLM call sites and show which ones emit receipts",
			Long: `Scan a source tree (Python with the reference's rules; Go with rules for
openai-go, anthropic-sdk-go, genai and langchaingo; TypeScript/JavaScript
with rules for openai, @anthropic-ai/sdk, @google/genai, ai, LangChain.js,
Mastra and the OpenAI Agents SDK) for LLM call sites and report which ones
are instrumented.

Outputs: a table (default), --json (the reference's document), --format sarif
(SARIF 2.1.0 for GitHub code scanning), --report [FILE] (one self-contained
HTML page) and --emit-contract FILE (the coverage contract that
'verify-pack --coverage-contract' measures receipts against).

Exit codes: 0 scanned (even with findings); 1 with --ci when findings at or
above --fail-on lack receipts; 2 when a contract or report cannot be written;
3 bad input (missing path, not a directory, bad flag value).`,
			Example: `  assay scan .
  assay scan . --report                     # evidence_gap_report.html
  assay scan . --emit-contract assay.coverage.json
  assay scan . --format sarif > assay.sarif # upload to GitHub code scanning
  assay scan . --ci --fail-on medium --exclude 'tests/*,vendor/*'`,
			GroupID: "start",
			Args:    cobra.MaximumNArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				// "--report FILE" (without '=') leaves FILE as a positional
				// argument: take the one that is not a directory.
				if len(args) == 2 {
					if !cmd.Flags().Changed("report") || o.report != defaultReportPath {
						return exit.Bad("see 'assay scan --help'", "accepts at most 1 arg(s), received 2")
					}
					if fsutil.IsDir(args[1]) && !fsutil.IsDir(args[0]) {
						args[0], args[1] = args[1], args[0]
					}
					o.report, args = args[1], args[:1]
				}
				// "assay scan --report out.html" (the path left out): the one
				// positional is the report file, not a directory to scan.
				if len(args) == 1 && cmd.Flags().Changed("report") && o.report == defaultReportPath &&
					!fsutil.IsDir(args[0]) && isHTMLName(args[0]) {
					o.report, args = args[0], nil
				}
				path := "."
				if len(args) == 1 {
					path = args[0]
				}
				if cmd.Flags().Changed("report-path") && o.report == "" {
					o.report = o.reportPath
				}
				return runScan(cmd, path, o)
			},
		}
		f := c.Flags()
		f.BoolVar(&o.asJSON, "json", false, "print the result as JSON (same as --format json; schema: schemas/scan-result.schema.json)")
		f.StringVar(&o.format, "format", "text", "output format: text, json or sarif")
		f.StringVar(&o.report, "report", "", "write the HTML evidence gap report (default file "+defaultReportPath+")")
		f.Lookup("report").NoOptDefVal = defaultReportPath
		f.StringVar(&o.reportPath, "report-path", defaultReportPath, "report file (the reference's flag; implies --report)")
		f.StringVar(&o.contract, "emit-contract", "", "write the coverage contract to `FILE`")
		f.BoolVar(&o.includeLow, "include-low", false, "keep LOW-confidence sites in the contract")
		f.BoolVar(&o.ci, "ci", false, "exit 1 when uninstrumented findings reach --fail-on")
		f.StringVar(&o.failOn, "fail-on", "high", "with --ci: high, medium or low")
		f.StringArrayVar(&o.include, "include", nil, "only scan paths matching these fnmatch patterns (comma-separated, repeatable)")
		f.StringArrayVar(&o.exclude, "exclude", nil, "skip paths matching these fnmatch patterns (comma-separated, repeatable; .assayignore is added)")
		f.BoolVar(&o.noGo, "no-go", false, "scan Python only, exactly as the reference does")
		f.BoolVar(&o.noTS, "no-ts", false, "skip TypeScript/JavaScript files")
		f.BoolVar(&o.excludeTests, "exclude-tests", false, "leave findings in test code (tests/, test_*.py, *.test.ts ...) out of the result, contract and report")
		f.Int64Var(&o.maxFileSize, "max-file-bytes", scan.DefaultMaxFileBytes, "read at most this many bytes per file; larger files are skipped and listed (0: no limit)")
		// The old name of --max-file-bytes, kept for scripts.
		f.Int64Var(&o.maxFileSize, "max-file-size", scan.DefaultMaxFileBytes, "same as --max-file-bytes")
		_ = f.MarkHidden("max-file-size")
		f.IntVar(&o.workers, "workers", 0, "files parsed in parallel (default: number of CPUs)")
		f.IntVar(&o.progressMin, "progress-min-files", 2000, "show a progress bar on a terminal for trees with more files than this")
		_ = f.MarkHidden("progress-min-files")
		return c
	})
}

func runScan(cmd *cobra.Command, path string, o scanFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	format := o.format
	if o.asJSON {
		format = "json"
	}
	switch format {
	case "text", "json", "sarif":
	default:
		return exit.Bad(suggest.Hint(o.format, []string{"text", "json", "sarif"})+"use text, json or sarif", "unknown --format %q", o.format)
	}
	switch o.failOn {
	case "high", "medium", "low":
	default:
		return exit.Bad("use high, medium or low", "unknown --fail-on %q", o.failOn)
	}
	for flag, target := range map[string]string{"--emit-contract": o.contract, "--report": o.report} {
		if target != "" && fsutil.IsDir(target) {
			return exit.Bad("name a file, e.g. "+flag+" "+filepath.Join(target, map[string]string{"--emit-contract": "assay.coverage.json", "--report": defaultReportPath}[flag]), "%s %s is a directory", flag, target)
		}
	}
	jsonErr := func(err error) error {
		if format == "json" {
			// The reference's fields (tool, status, error) plus the common
			// error envelope's.
			fix := ""
			var xe *exit.Error
			if errors.As(err, &xe) {
				fix = xe.Fix
			}
			_ = writeJSON(stdout, struct {
				Tool string `json:"tool"`
				jsonErrorDoc
			}{"assay-scan", jsonErrorDoc{"scan", "error", exitMsg(err), exitMsg(err), fix, exit.Code(err)}})
		}
		return err
	}
	// The same request type and rules as the MCP scan tool.
	req := ops.ScanRequest{
		Path: path, Include: o.include, Exclude: o.exclude, NoGo: o.noGo, NoTS: o.noTS,
		MaxFileBytes: &o.maxFileSize, Workers: o.workers, IncludeLow: o.includeLow, CI: o.ci, FailOn: o.failOn, ExcludeTests: o.excludeTests,
	}
	if err := req.Validate(); err != nil {
		return err
	}
	bar := newProgress(stderr, o.progressMin)
	sc, err := ops.Scan(req, ops.ScanHooks{Progress: bar.update})
	bar.done()
	if err != nil {
		return jsonErr(err)
	}
	res := sc.Result
	opt := req.Options(ops.ScanHooks{})
	for _, s := range res.Skipped {
		logOf(cmd).Info().Str("file", s.Path).Str("reason", s.Reason).Msg("skipped")
	}
	if res.Files == 0 && len(opt.Include) > 0 {
		// Include patterns match file paths (reference semantics): a bare
		// directory name keeps nothing, which reads like a clean project.
		fmt.Fprintf(stderr, "assay scan: --include %s matched no source file (patterns match file paths relative to the root, e.g. --include 'src/*')\n", strings.Join(opt.Include, ","))
	}
	if n := len(res.Skipped); n > 0 && format == "text" {
		fmt.Fprintf(stderr, "assay scan: %d file(s) skipped (unreadable or not parseable; --log-level info lists them)\n", n)
		for _, r := range res.Refused() {
			fmt.Fprintf(stderr, "assay scan: not read: %s (%s)\n", shownPath(r.Path), r.Reason)
		}
	}
	quiet := format != "text"
	if o.contract != "" {
		c, excluded := res.Contract(scan.ContractOptions{IncludeLow: o.includeLow}, time.Now())
		b, err := c.Marshal()
		if err == nil {
			err = fsutil.WriteFileAtomic(o.contract, b, 0o644)
		}
		if err != nil {
			return jsonErr(exit.New(exit.Tampered, "check the directory exists and is writable", "contract emission failed: %v", err))
		}
		if !quiet {
			fmt.Fprintf(stdout, "Coverage contract written: %s (%d site(s), %d excluded (LangChain/LiteLLM))\n", o.contract, len(c.CallSites), excluded)
			tests := 0
			for _, s := range c.CallSites {
				if scan.IsTestPath(s.Path, coverage.LanguageOf(s.Path)) {
					tests++
				}
			}
			if tests > 0 {
				fmt.Fprintf(stdout, "  %d of its sites are in test code and count toward coverage; --exclude-tests leaves them out\n", tests)
			}
		}
	}
	if o.report != "" {
		if err := writeReport(res, o.report); err != nil {
			return jsonErr(exit.New(exit.Tampered, "check the directory exists and is writable", "report generation failed: %v", err))
		}
		if !quiet {
			fmt.Fprintf(stdout, "Evidence gap report written: %s\n", o.report)
		}
	}
	blocked := sc.Blocked
	switch format {
	case "json":
		b, err := pyjson.Indent(sc.Document)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	case "sarif":
		if err := writeJSON(stdout, res.SARIF(version.Version)); err != nil {
			return err
		}
	default:
		printScanText(stdout, res, newStyle(stdout))
	}
	if blocked {
		if format == "text" {
			fmt.Fprintf(stderr, "assay scan: blocked: uninstrumented findings at or above %q (--ci)\n", o.failOn)
		}
		return exit.Silent{Code: exit.HonestFail}
	}
	return nil
}

// shownPath quotes a path holding control characters (a newline in a file
// name would otherwise split the table row).
func shownPath(p string) string {
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return strconv.Quote(p)
		}
	}
	return p
}

func isHTMLName(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".html" || ext == ".htm"
}

func exitMsg(err error) string {
	if e, ok := err.(*exit.Error); ok {
		return e.Msg
	}
	return err.Error()
}

func printScanText(w io.Writer, res *scan.Result, st style) {
	if len(res.Findings) == 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  No LLM call sites detected.")
		printTestCode(w, res)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  Next steps:")
		fmt.Fprintln(w, "    assay run --allow-empty -- python your_app.py")
		fmt.Fprintln(w, "    assay demo-incident")
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  Found %d LLM call site(s):\n", len(res.Findings))
	locW := 0
	for _, f := range res.Findings {
		locW = max(locW, len(fmt.Sprintf("%s:%-6d", shownPath(f.Path), f.Line)))
	}
	for _, f := range res.Findings {
		label := map[string]string{scan.High: "HIGH", scan.Medium: "MED", scan.Low: "LOW"}[f.Confidence]
		status := st.Red("NO RECEIPT")
		if f.Instrumented {
			status = st.Green("INSTRUMENTED")
		}
		if f.InTestPath {
			status += st.Dim(" (test)")
		}
		loc := fmt.Sprintf("%s:%-6d", shownPath(f.Path), f.Line)
		fmt.Fprintf(w, "  %-6s %-*s %-45s %s\n", label, locW, loc, f.Call, status)
	}
	s := res.Summary()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %d of %d call sites instrumented. %d uninstrumented (%d high, %d medium, %d low)\n", s.Instrumented, s.SitesTotal, s.Uninstrumented, s.High, s.Medium, s.Low)
	printTestCode(w, res)
	if nc := scan.NextCommand(res.NextSteps()); nc != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  "+st.Bold("Next steps:"))
		for _, l := range strings.Split(*nc, "\n") {
			fmt.Fprintln(w, strings.TrimRight("  "+l, " "))
		}
	}
}

// printTestCode says how many findings are in test code, or were left out.
func printTestCode(w io.Writer, res *scan.Result) {
	switch tc := res.TestCode(); {
	case tc == nil:
	case tc.Excluded:
		fmt.Fprintf(w, "  %d call site(s) in test code left out (--exclude-tests).\n", tc.SitesTotal)
	default:
		fmt.Fprintf(w, "  %d of them in test code (%d uninstrumented); --exclude-tests leaves them out.\n", tc.SitesTotal, tc.Uninstrumented)
	}
}

func writeReport(res *scan.Result, path string) error {
	meta := reportMeta(res.Root)
	rep := scan.BuildReport(res, meta)
	page, err := rep.HTML()
	if err != nil {
		return err
	}
	side, err := rep.SidecarJSON()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, page, 0o644); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(strings.TrimSuffix(path, filepath.Ext(path))+".json", side, 0o644)
}

// reportMeta describes the repository: git details when it is a work tree.
func reportMeta(root string) scan.ReportMeta {
	m := scan.ReportMeta{AssayVersion: version.Version, GeneratedAt: receipt.Now(), RepoName: filepath.Base(root), RepoRoot: root}
	git := func(args ...string) (string, bool) {
		c := exec.Command("git", append([]string{"-C", root}, args...)...)
		c.Stderr = nil
		out, err := c.Output()
		if err != nil {
			return "", false
		}
		return strings.TrimSpace(string(out)), true
	}
	if _, ok := git("rev-parse", "--is-inside-work-tree"); !ok {
		return m
	}
	if u, ok := git("remote", "get-url", "origin"); ok && u != "" {
		name := strings.TrimSuffix(u[strings.LastIndexAny(u, "/:")+1:], ".git")
		if name != "" {
			m.RepoName = name
		}
	}
	if b, ok := git("rev-parse", "--abbrev-ref", "HEAD"); ok {
		m.GitBranch = &b
	}
	if c, ok := git("rev-parse", "--short", "HEAD"); ok {
		m.GitCommit = &c
	}
	if s, ok := git("status", "--porcelain"); ok {
		d := s != ""
		m.GitDirty = &d
	}
	return m
}

// progress draws a bar on stderr when it is a terminal and the tree is big.
type progress struct {
	w     io.Writer
	on    bool
	min   int
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, min int) *progress {
	return &progress{w: w, on: isTerminal(w) && os.Getenv("CI") == "", min: min}
}

func (p *progress) update(done, total int) {
	if !p.on || total <= p.min {
		return
	}
	if now := time.Now(); done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	} else {
		p.last = now
	}
	const width = 30
	n := done * width / total
	fmt.Fprintf(p.w, "\r  scanning [%s%s] %d/%d files", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[2K")
	}
}
