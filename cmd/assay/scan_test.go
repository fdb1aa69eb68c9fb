package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/pyjson"
	"github.com/assay-dev/assay/core/scan"
)

var scanSample, _ = filepath.Abs("../../testdata/vectors/reference-1.24/scan_sample")

// `assay scan --json` on the reference's sample prints the reference's
// document byte for byte.
func TestScanCLIJSONParity(t *testing.T) {
	t.Parallel()
	code, out, _ := ckRun(t, "scan", filepath.Join(scanSample, "tree"), "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want, _ := os.ReadFile(filepath.Join(scanSample, "scan.json"))
	if got := referenceView(t, out); got != string(want) {
		t.Errorf("scan --json differs from the reference:\n%s", got)
	}
}

// referenceView undoes our documented additions to the scan document (the
// in_test_path marks, the test_code counts, verify-pack --latest where the
// reference globs ./proof_pack_*/) after checking they are there.
func referenceView(t *testing.T, out string) string {
	t.Helper()
	var doc scan.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.TestCode == nil || doc.TestCode.SitesTotal == 0 {
		t.Errorf("no test_code counts in %s", out)
	}
	doc.TestCode = nil
	for i := range doc.Findings {
		doc.Findings[i].InTestPath = false
	}
	b, err := pyjson.Indent(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(scan.VerifyLatest)) {
		t.Errorf("next steps do not name %q", scan.VerifyLatest)
	}
	return string(bytes.ReplaceAll(b, []byte(scan.VerifyLatest), []byte("assay verify-pack ./proof_pack_*/"))) + "\n"
}

func TestScanCLIExitCodes(t *testing.T) {
	t.Parallel()
	tree := filepath.Join(scanSample, "tree")
	dir := t.TempDir()
	onlyLow := filepath.Join(dir, "low")
	os.MkdirAll(onlyLow, 0o755)
	os.WriteFile(filepath.Join(onlyLow, "a.py"), []byte("call_llm(1)\n"), 0o644)
	instrumented := filepath.Join(dir, "inst")
	os.MkdirAll(instrumented, 0o755)
	os.WriteFile(filepath.Join(instrumented, "a.py"), []byte("import assay_capture\nclient.chat.completions.create()\n"), 0o644)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		status string // JSON "status" when --json
		stderr string
	}{
		{"missing path", []string{"scan", filepath.Join(dir, "nope")}, 3, "", "Directory not found"},
		{"missing path json", []string{"scan", filepath.Join(dir, "nope"), "--json"}, 3, "error", ""},
		{"file not dir", []string{"scan", filepath.Join(tree, "app", "main.py")}, 3, "", "Not a directory"},
		{"findings without --ci", []string{"scan", tree, "--json"}, 0, "ok", ""},
		{"ci high blocks", []string{"scan", tree, "--json", "--ci"}, 1, "blocked", ""},
		{"ci low-only passes high", []string{"scan", onlyLow, "--json", "--ci", "--fail-on", "high"}, 0, "ok", ""},
		{"ci low-only passes medium", []string{"scan", onlyLow, "--json", "--ci", "--fail-on", "medium"}, 0, "ok", ""},
		{"ci low-only blocks low", []string{"scan", onlyLow, "--json", "--ci", "--fail-on", "low"}, 1, "blocked", ""},
		{"ci all instrumented", []string{"scan", instrumented, "--json", "--ci", "--fail-on", "low"}, 0, "ok", ""},
		{"ci text blocked", []string{"scan", tree, "--ci"}, 1, "", "blocked"},
		{"bad fail-on", []string{"scan", tree, "--ci", "--fail-on", "severe"}, 3, "", "unknown --fail-on"},
		{"bad format", []string{"scan", tree, "--format", "xml"}, 3, "", "unknown --format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := ckRun(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %s)", code, tc.code, errs)
			}
			if tc.status != "" {
				var doc map[string]any
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
				}
				if doc["status"] != tc.status {
					t.Errorf("status %v, want %s", doc["status"], tc.status)
				}
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q lacks %q", errs, tc.stderr)
			}
		})
	}
}

// The SARIF output validates against the SARIF 2.1.0 JSON schema (vendored
// from npm, see testdata/scan/sarif/PROVENANCE) and carries one result per
// uninstrumented finding, Python and Go.
func TestScanSARIFValidates(t *testing.T) {
	t.Parallel()
	schemaPath, _ := filepath.Abs("../../testdata/scan/sarif/sarif-2.1.0-rtm.5.json")
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file://"+schemaPath, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("file://" + schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir     string
		results int
	}{
		{filepath.Join(scanSample, "tree"), 12},
		{"../../testdata/scan/golang", 12},
	} {
		code, out, errs := ckRun(t, "scan", tc.dir, "--format", "sarif")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: SARIF does not validate: %v", tc.dir, err)
		}
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID    string
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
		json.Unmarshal([]byte(out), &log)
		if n := len(log.Runs[0].Results); n != tc.results {
			t.Errorf("%s: %d results, want %d", tc.dir, n, tc.results)
		}
	}
	// A broken document is rejected, so the check can fail.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"results":[]}]}`))
	if sch.Validate(bad) == nil {
		t.Error("schema accepted a run without a tool")
	}
}

// --emit-contract writes a contract that loads (hash checked) and holds
// the HIGH/MEDIUM sites minus LangChain/LiteLLM, in scan order.
func TestScanEmitContract(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "assay.coverage.json")
	code, out, errs := ckRun(t, "scan", filepath.Join(scanSample, "tree"), "--emit-contract", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "Coverage contract written: "+p+" (9 site(s), 3 excluded (LangChain/LiteLLM))") {
		t.Errorf("stdout: %s", out)
	}
	c, err := coverage.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := coverage.Load(filepath.Join(scanSample, "contract.json"))
	if c.ContractHash != ref.ContractHash {
		t.Errorf("hash %s, reference %s", c.ContractHash, ref.ContractHash)
	}
	// --include-low adds the LOW site; --json keeps stdout pure JSON.
	code, out, _ = ckRun(t, "scan", filepath.Join(scanSample, "tree"), "--emit-contract", p, "--include-low", "--json")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Fatalf("exit %d, stdout not JSON", code)
	}
	c, _ = coverage.Load(p)
	if len(c.CallSites) != 10 || c.Summary.Low != 1 {
		t.Errorf("include-low: %d sites, summary %+v", len(c.CallSites), c.Summary)
	}
	// An unwritable destination is exit 2 with the reference's message.
	code, _, errs = ckRun(t, "scan", filepath.Join(scanSample, "tree"), "--emit-contract", filepath.Join(dir, "no", "such", "dir", "c.json"))
	if code != 2 || !strings.Contains(errs, "contract emission failed") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// The HTML report is one self-contained file; headless Chromium renders it
// and the DOM carries the summary counts, one row per finding, the
// coverage-by-directory chart and the "Showing N of M" line.
func TestScanHTMLReportInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Debian chromium is required at %s (scripts/setup.d/20-chromium.sh installs it): %v", chromium, err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	code, out, errs := ckRun(t, "scan", filepath.Join(scanSample, "tree"), "--report", page)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "Evidence gap report written: "+page) {
		t.Errorf("stdout: %s", out)
	}
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(raw)
	for _, bad := range []string{"http://", "https://", "innerHTML", "<link", " src="} {
		if strings.Contains(strings.ReplaceAll(html, "https://github.com/assay-dev/assay", ""), bad) {
			t.Errorf("report is not self-contained: contains %q", bad)
		}
	}
	var side map[string]any
	sb, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || json.Unmarshal(sb, &side) != nil {
		t.Fatalf("sidecar: %v", err)
	}

	chrome := func(args ...string) string {
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
		cmd := exec.Command(chromium, append(base, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("chromium timed out")
		}
		return o.String()
	}
	// One browser run renders the page, saves the screenshot and dumps the
	// DOM as it stands after the page's script ran.
	shot := filepath.Join(t.TempDir(), "report.png")
	dom := chrome("--window-size=1280,2400", "--virtual-time-budget=5000", "--screenshot="+shot, "--dump-dom", "file://"+page)
	text := func(id string) string {
		m := regexp.MustCompile(`id="` + id + `"[^>]*>([^<]*)<`).FindStringSubmatch(dom)
		if m == nil {
			t.Errorf("no #%s in the rendered DOM", id)
			return ""
		}
		return m[1]
	}
	for id, want := range map[string]string{
		"coverage-pct": "11.1%", "stat-total": "13", "stat-instrumented": "1", "stat-uninstrumented": "12",
		"prod-total": "12", "test-total": "1", "showing": "Showing 13 of 13 findings",
	} {
		if got := text(id); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	rows := regexp.MustCompile(`<tr class="finding" data-path="([^"]+)" data-line="(\d+)"`).FindAllStringSubmatch(dom, -1)
	if len(rows) != 13 {
		t.Fatalf("%d finding rows in the DOM, want 13", len(rows))
	}
	if rows[0][1] != "agents/claude.py" || rows[0][2] != "7" || rows[12][1] != "tests/test_main.py" {
		t.Errorf("rows out of order: first %v last %v", rows[0][1:], rows[12][1:])
	}
	if n := strings.Count(dom, ">NO RECEIPT<"); n != 12 {
		t.Errorf("%d NO RECEIPT badges, want 12", n)
	}
	if n := strings.Count(dom, ">INSTRUMENTED<"); n != 1 {
		t.Errorf("%d INSTRUMENTED badges, want 1", n)
	}
	dirs := regexp.MustCompile(`class="bar-row dir-row" data-dir="([^"]+)"`).FindAllStringSubmatch(dom, -1)
	if len(dirs) != 3 || dirs[0][1] != "agents" {
		t.Errorf("coverage-by-directory bars: %v", dirs)
	}
	if !strings.Contains(dom, "12.5% (1/8)") {
		t.Error("agents/ bar does not show 1 of 8 instrumented")
	}
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 10000 {
		t.Fatalf("screenshot missing or empty: %v", err)
	}
	t.Logf("report screenshot: %s (%d bytes)", shot, st.Size())
}

// The progress bar draws only for trees above the threshold, ends on the
// full count and clears its line.
func TestScanProgressBar(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := &progress{w: &b, on: true, min: 10}
	p.update(1, 5)
	if b.Len() != 0 {
		t.Fatalf("drew for a small tree: %q", b.String())
	}
	for i := 1; i <= 20; i++ {
		p.update(i, 20)
	}
	p.done()
	s := b.String()
	if !strings.Contains(s, "[##############################] 20/20 files") || !strings.HasSuffix(s, "\r\x1b[2K") {
		t.Errorf("progress output %q", s)
	}
	// Not a terminal: nothing at all.
	var q bytes.Buffer
	np := newProgress(&q, 0)
	np.update(5, 10)
	np.done()
	if q.Len() != 0 {
		t.Errorf("drew on a non-terminal: %q", q.String())
	}
}

// Bad files never stop a scan: they are listed as skipped (stderr, with
// --log-level info naming each) and the rest is scanned; exit 0.
func TestScanCLIBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.py"), []byte("client.chat.completions.create()\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bin.py"), []byte("\x7fELF\x00\x00client.chat.completions.create()"), 0o644)
	os.WriteFile(filepath.Join(dir, "py2.py"), []byte("print 'x'\nclient.chat.completions.create()\n"), 0o644)
	os.Symlink(filepath.Join(dir, "gone.py"), filepath.Join(dir, "dangling.py"))
	code, out, errs := ckRun(t, "scan", dir, "--log-level", "info")
	if code != 0 || !strings.Contains(out, "Found 1 LLM call site(s)") || !strings.Contains(errs, "3 file(s) skipped") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"bin.py", "py2.py", "dangling.py"} {
		if !strings.Contains(errs, f) {
			t.Errorf("stderr does not name %s:\n%s", f, errs)
		}
	}
}

// A contract written from a tree with test code says how many of its sites
// are tests (they count toward coverage) and how to leave them out; with
// --exclude-tests they are not in the contract.
func TestScanContractNamesTestSites(t *testing.T) {
	dir := t.TempDir()
	call := "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n"
	for p, src := range map[string]string{"app.py": call, "tests/test_app.py": call} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(src), 0o644)
	}
	out := filepath.Join(t.TempDir(), "c.json")
	code, stdout, _ := ckRun(t, "scan", dir, "--emit-contract", out)
	if code != 0 || !strings.Contains(stdout, "1 of its sites are in test code and count toward coverage; --exclude-tests leaves them out") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	out2 := filepath.Join(t.TempDir(), "c.json")
	code, stdout, _ = ckRun(t, "scan", dir, "--exclude-tests", "--emit-contract", out2)
	c, err := coverage.Load(out2)
	if code != 0 || err != nil || len(c.CallSites) != 1 || c.CallSites[0].Path != "app.py" || strings.Contains(stdout, "of its sites are in test code") {
		t.Fatalf("--exclude-tests: exit %d, %v, %+v\n%s", code, err, c, stdout)
	}
}
