package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/core/pyjson"
)

// ReportMeta describes the scanned repository in the report.
type ReportMeta struct {
	AssayVersion string  `json:"assay_version"`
	GeneratedAt  string  `json:"generated_at"`
	RepoName     string  `json:"repo_name"`
	RepoRoot     string  `json:"repo_root"`
	GitBranch    *string `json:"git_branch"`
	GitCommit    *string `json:"git_commit"`
	GitDirty     *bool   `json:"git_dirty"`
}

// ReportFinding is a finding as the report shows it.
type ReportFinding struct {
	Call         string  `json:"call"`
	Confidence   string  `json:"confidence"`
	Fix          *string `json:"fix"`
	Instrumented bool    `json:"instrumented"`
	IsTest       bool    `json:"is_test"`
	Line         int     `json:"line"`
	Path         string  `json:"path"`
	Provider     string  `json:"provider"`
	// Lang is set on every finding when the scan found TS/JS sites or more
	// than one language (a Python-only or Go-only report is unchanged).
	Lang string `json:"lang,omitempty"`
}

// ReportSummary is the report's summary block.
type ReportSummary struct {
	CoveragePct        float64        `json:"coverage_pct"`
	ExcludedFrameworks map[string]int `json:"excluded_frameworks"`
	High               int            `json:"high"`
	Instrumented       int            `json:"instrumented"`
	Low                int            `json:"low"`
	Medium             int            `json:"medium"`
	ProdTotal          int            `json:"prod_total"`
	ProdUninstrumented int            `json:"prod_uninstrumented"`
	SitesTotal         int            `json:"sites_total"`
	TestTotal          int            `json:"test_total"`
	TestUninstrumented int            `json:"test_uninstrumented"`
	Uninstrumented     int            `json:"uninstrumented"`
}

// DirCoverage is one bar of the coverage-by-directory chart.
type DirCoverage struct {
	Dir          string  `json:"dir"`
	Total        int     `json:"total"`
	Instrumented int     `json:"instrumented"`
	Pct          float64 `json:"pct"`
}

// Report is the Evidence Gap Report's data (the JSON sidecar, keys sorted
// as the reference writes them).
type Report struct {
	Findings    []ReportFinding `json:"findings"`
	Meta        ReportMeta      `json:"meta"`
	Summary     ReportSummary   `json:"summary"`
	Directories []DirCoverage   `json:"-"`
	// ExcludedTests counts the test-code findings the scan left out.
	ExcludedTests int `json:"-"`
}

// Provider is the report's provider label for a finding.
func Provider(f Finding) string {
	if f.Lang == "go" || f.Lang == "typescript" {
		return f.Framework
	}
	l := strings.ToLower(f.Call)
	has := func(ss ...string) bool {
		for _, s := range ss {
			if strings.Contains(l, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("openai", "chat.completions", "chatopenai"):
		return "openai"
	case has("anthropic", "messages.create", "chatanthropic"):
		return "anthropic"
	case has("litellm"):
		return "litellm"
	case has(".invoke", ".ainvoke", "llm.predict", "llm.apredict", "chain.", "agent.", "retriever.", "parser.", "prompt.", "model.invoke", "model.ainvoke"):
		return "langchain"
	}
	return "other"
}

// IsTest reports whether a path looks like test code.
func IsTest(path string) bool {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for _, p := range parts {
		switch {
		case p == "test" || p == "tests" || p == "testing" || p == "test_utils":
			return true
		case strings.HasPrefix(p, "test_"):
			return true
		}
	}
	return strings.HasSuffix(path, "_test.py") || strings.HasSuffix(path, "_test.go")
}

// round1 rounds like Python's round(x, 1) (correctly rounded decimal).
func round1(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 1, 64), 64)
	return v
}

// BuildReport computes the report data (scanner.md §1.8).
func BuildReport(r *Result, meta ReportMeta) *Report {
	s := r.Summary()
	rep := &Report{Meta: meta, Findings: []ReportFinding{}, ExcludedTests: r.ExcludedTests}
	rs := ReportSummary{
		High: s.High, Medium: s.Medium, Low: s.Low, SitesTotal: s.SitesTotal,
		Instrumented: s.Instrumented, Uninstrumented: s.Uninstrumented,
		ExcludedFrameworks: map[string]int{},
	}
	den, num := 0, 0
	dirs := map[string]*DirCoverage{}
	showLang := r.MixedLanguages()
	for _, f := range r.Findings {
		rf := ReportFinding{Call: f.Call, Confidence: f.Confidence, Instrumented: f.Instrumented, IsTest: f.InTestPath || IsTest(f.Path), Line: f.Line, Path: f.Path, Provider: Provider(f)}
		if showLang {
			rf.Lang = f.Lang
		}
		if !f.Instrumented {
			fix := f.Fix
			rf.Fix = &fix
		}
		rep.Findings = append(rep.Findings, rf)
		if rf.IsTest {
			rs.TestTotal++
			if !f.Instrumented {
				rs.TestUninstrumented++
			}
		} else {
			rs.ProdTotal++
			if !f.Instrumented {
				rs.ProdUninstrumented++
			}
		}
		if f.Confidence == High || f.Confidence == Medium {
			if excludedFromContract[f.Framework] {
				rs.ExcludedFrameworks[f.Framework]++
			} else {
				den++
				if f.Instrumented {
					num++
				}
			}
		}
		d := filepath.ToSlash(filepath.Dir(f.Path))
		dc := dirs[d]
		if dc == nil {
			dc = &DirCoverage{Dir: d}
			dirs[d] = dc
		}
		dc.Total++
		if f.Instrumented {
			dc.Instrumented++
		}
	}
	switch {
	case den > 0:
		rs.CoveragePct = round1(float64(num) / float64(den) * 100)
	case len(r.Findings) == 0:
		rs.CoveragePct = 100.0
	default:
		rs.CoveragePct = 0.0
	}
	rep.Summary = rs
	for _, d := range dirs {
		d.Pct = round1(float64(d.Instrumented) / float64(d.Total) * 100)
		rep.Directories = append(rep.Directories, *d)
	}
	sort.Slice(rep.Directories, func(i, j int) bool { return rep.Directories[i].Dir < rep.Directories[j].Dir })
	return rep
}

// SidecarJSON is the report's JSON sidecar: sorted keys, indent 2, no
// trailing newline, non-ASCII escaped.
func (rep *Report) SidecarJSON() ([]byte, error) {
	// Marshal through a map so every level's keys come out sorted.
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return pyjson.Indent(v)
}

// HTML renders the report as one self-contained page: inline CSS and JS,
// no external resources, data embedded as JSON (every "</" written "<\/"),
// DOM built with createElement/textContent only.
func (rep *Report) HTML() ([]byte, error) {
	data, err := json.Marshal(struct {
		*Report
		Directories []DirCoverage `json:"directories"`
	}{rep, rep.Directories})
	if err != nil {
		return nil, err
	}
	data = bytes.ReplaceAll(data, []byte("</"), []byte(`<\/`))
	s := rep.Summary
	color := "green"
	switch {
	case s.CoveragePct < 25:
		color = "red"
	case s.CoveragePct < 75:
		color = "yellow"
	}
	lowCount := 0
	for _, f := range rep.Findings {
		if f.Confidence == Low {
			lowCount++
		}
	}
	h := html.EscapeString
	testDetail := fmt.Sprintf("%d without receipts", s.TestUninstrumented)
	if rep.ExcludedTests > 0 {
		testDetail = fmt.Sprintf("%d left out (--exclude-tests)", rep.ExcludedTests)
	}
	var b strings.Builder
	b.WriteString(htmlHead)
	fmt.Fprintf(&b, `<div class="container">
<header class="hero">
<h1>Evidence Gap Report</h1>
<div class="repo-name" id="repo-name">%s</div>
<div class="hero-number %s" id="coverage-pct">%s%%</div>
<div class="hero-label">of your AI calls can be independently proven</div>
<div class="hero-stats">
<div class="stat"><div class="stat-value" id="stat-total">%d</div><div class="stat-label">AI call sites</div></div>
<div class="stat"><div class="stat-value green" id="stat-instrumented">%d</div><div class="stat-label">have receipts</div></div>
<div class="stat"><div class="stat-value red" id="stat-uninstrumented">%d</div><div class="stat-label">no proof</div></div>
</div>
<div class="scope-split">
<div class="scope-box"><div class="scope-label">Production</div><div class="scope-value" id="prod-total">%d</div><div class="scope-detail">%d without receipts</div></div>
<div class="scope-box"><div class="scope-label">Tests</div><div class="scope-value" id="test-total">%d</div><div class="scope-detail" id="test-detail">%s</div></div>
</div>
</header>
`, h(rep.Meta.RepoName), color, strconv.FormatFloat(s.CoveragePct, 'f', 1, 64), s.SitesTotal, s.Instrumented, s.Uninstrumented,
		s.ProdTotal, s.ProdUninstrumented, s.TestTotal, testDetail)
	if lowCount > 0 {
		fmt.Fprintf(&b, "<p class=\"note\" id=\"low-note\">%d LOW-confidence finding(s) excluded from coverage.</p>\n", lowCount)
	}
	if len(s.ExcludedFrameworks) > 0 {
		b.WriteString(`<p class="note" id="excluded-note">Excluded from coverage: `)
		var parts []string
		for _, fw := range []string{"langchain", "litellm"} {
			if n := s.ExcludedFrameworks[fw]; n > 0 {
				why := "uses callbacks, not global patching"
				if fw == "litellm" {
					why = "wraps upstream SDK; instrument the SDK directly"
				}
				parts = append(parts, fmt.Sprintf("%s (%d site(s)): %s", fw, n, why))
			}
		}
		b.WriteString(h(strings.Join(parts, "; ")) + ".</p>\n")
	}
	b.WriteString(htmlBody)
	b.WriteString(`<script type="application/json" id="report-data">`)
	b.Write(data)
	b.WriteString("</script>\n<script>\n" + htmlScript + "</script>\n")
	fmt.Fprintf(&b, "<footer>Generated by Assay v%s &bull; %s</footer>\n</div>\n</body>\n</html>\n", h(rep.Meta.AssayVersion), h(rep.Meta.GeneratedAt))
	return []byte(b.String()), nil
}

const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence Gap Report</title>
<style>
:root{--bg:#0d1117;--surface:#161b22;--border:#30363d;--text:#e6edf3;--dim:#8b949e;--red:#f85149;--yellow:#d29922;--green:#3fb950;--blue:#58a6ff;--mono:ui-monospace,Consolas,monospace}
*{margin:0;padding:0;box-sizing:border-box}
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;background:var(--bg);color:var(--text);line-height:1.5}
.container{max-width:1100px;margin:0 auto;padding:32px 24px}
.hero{text-align:center;padding:32px 0;border-bottom:1px solid var(--border);margin-bottom:24px}
.hero h1{font-size:18px;color:var(--dim);text-transform:uppercase;letter-spacing:.5px}
.repo-name{font-size:26px;font-weight:700;margin-bottom:20px}
.hero-number{font-size:88px;font-weight:800;line-height:1;font-family:var(--mono)}
.red{color:var(--red)}.yellow{color:var(--yellow)}.green{color:var(--green)}
.hero-label{color:var(--dim);margin:8px 0 24px}
.hero-stats,.scope-split{display:flex;justify-content:center;gap:40px;flex-wrap:wrap}
.scope-split{margin-top:20px}
.stat-value{font-size:30px;font-weight:700;font-family:var(--mono)}
.stat-label,.scope-label{font-size:12px;color:var(--dim);text-transform:uppercase}
.scope-box{background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:12px 24px;min-width:170px}
.scope-value{font-size:22px;font-weight:700;font-family:var(--mono)}
.scope-detail,.note{font-size:13px;color:var(--dim)}
.note{margin:8px 0;text-align:center}
section{margin:28px 0}
h2{font-size:16px;color:var(--dim);margin-bottom:12px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.card{background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:12px 16px;font-size:14px}
.term{font-weight:700;color:var(--blue);text-transform:uppercase;font-size:12px}
.bar-row{display:grid;grid-template-columns:260px 1fr 90px;gap:10px;align-items:center;font-size:13px;margin:4px 0}
.bar{background:var(--surface);border:1px solid var(--border);border-radius:4px;height:14px;overflow:hidden}
.bar>div{height:100%}
.fill-red{background:var(--red)}.fill-green{background:var(--green)}
.mono{font-family:var(--mono)}
.filters{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:10px}
input,select,button{background:var(--surface);color:var(--text);border:1px solid var(--border);border-radius:6px;padding:5px 8px;font-size:13px}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--border);vertical-align:top}
th{cursor:pointer;color:var(--dim)}
.badge{border-radius:10px;padding:1px 8px;font-size:11px;font-weight:700}
.badge.ok{background:rgba(63,185,80,.15);color:var(--green)}
.badge.no{background:rgba(248,81,73,.15);color:var(--red)}
.badge.test{background:rgba(88,166,255,.15);color:var(--blue);margin-left:6px}
pre{background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:12px;font-size:12px;overflow:auto}
footer{color:var(--dim);font-size:12px;text-align:center;margin-top:32px}
details{background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:10px 14px}
</style>
</head>
<body>
`

const htmlBody = `<section class="explainer">
<h2>How to read this report</h2>
<div class="grid">
<div class="card"><div class="term">Call site</div>A place in the code that calls an LLM API, found by static analysis.</div>
<div class="card"><div class="term">Instrumented</div>The file emits a receipt for its calls, so they can be proven later.</div>
<div class="card"><div class="term">No receipt</div>Nothing records this call; there is no evidence it happened or what it did.</div>
<div class="card"><div class="term">Evidence coverage</div>Instrumented HIGH and MEDIUM call sites over all of them (LOW and callback-based frameworks excluded).</div>
</div>
</section>
<section id="coverage-by-dir"><h2>Coverage by directory</h2><div id="dir-chart"></div></section>
<section id="fix-first"><h2>Fix These First</h2><div id="fix-list"></div></section>
<section id="findings">
<h2>Call sites</h2>
<div class="filters">
<input id="f-path" placeholder="Filter by path">
<select id="f-conf"><option value="">All confidence</option><option>high</option><option>medium</option><option>low</option></select>
<select id="f-provider"><option value="">All providers</option></select>
<select id="f-status"><option value="">Any status</option><option value="instrumented">Instrumented</option><option value="missing">No receipt</option></select>
<select id="f-scope"><option value="">Prod and test</option><option value="prod">Production</option><option value="test">Tests</option></select>
</div>
<div id="table-holder"></div>
<p class="note" id="showing"></p>
</section>
<section><h2>What Instrumented Looks Like</h2>
<pre>Before:
  resp = client.chat.completions.create(model="gpt-4o", messages=msgs)

After (one line in your entrypoint, added by 'assay patch .'):
  import assay_capture  # assay:patched
  resp = client.chat.completions.create(model="gpt-4o", messages=msgs)
  # each call now appends a model_call receipt with its callsite_id</pre>
</section>
<section><h2>Next Steps: Close the Gaps</h2>
<pre>1. assay patch .                                   # instrument the entrypoint
2. assay scan . --emit-contract assay.coverage.json  # pin the call sites
3. assay run -c receipt_completeness -- python your_app.py
4. assay verify-pack --latest --coverage-contract assay.coverage.json</pre>
<p class="note">Re-run: <span class="mono">assay scan . --report</span></p>
</section>
<section><details><summary>What this report does NOT prove</summary><ul>
<li>It does not prove the calls are correct or safe.</li>
<li>Static analysis misses custom wrappers, dynamic dispatch and runtime-only paths.</li>
<li>Instrumentation proves the integrity of what was recorded, not the honesty of its source.</li>
<li>LOW-confidence findings are heuristics and may be false positives.</li>
<li>Instrumentation is judged statically: per file, or per project once an entrypoint imports assay's capture module (Python, TS/JS), or per client construction (Go); not per call at run time.</li>
</ul></details></section>
`

const htmlScript = `(function(){
"use strict";
var data = JSON.parse(document.getElementById("report-data").textContent);
function el(tag, cls, text){var e=document.createElement(tag); if(cls){e.className=cls;} if(text!==undefined&&text!==null){e.textContent=String(text);} return e;}
// Coverage by directory.
var chart = document.getElementById("dir-chart");
(data.directories||[]).forEach(function(d){
  var row = el("div","bar-row dir-row"); row.setAttribute("data-dir", d.dir);
  row.appendChild(el("span","mono",d.dir==="."?"(root)":d.dir));
  var bar = el("div","bar"); var fill = el("div", d.pct>=75?"fill-green":"fill-red");
  fill.style.width = Math.max(d.pct, 2) + "%"; bar.appendChild(fill); row.appendChild(bar);
  row.appendChild(el("span","dir-pct",d.pct.toFixed(1)+"% ("+d.instrumented+"/"+d.total+")"));
  chart.appendChild(row);
});
// Fix these first: files with the most call sites lacking receipts.
var counts = {}, order = [];
data.findings.forEach(function(f){ if(!f.instrumented){ if(!(f.path in counts)){counts[f.path]=0; order.push(f.path);} counts[f.path]++; } });
order.sort(function(a,b){return counts[b]-counts[a];});
var fl = document.getElementById("fix-list"); var max = order.length?counts[order[0]]:1;
order.slice(0,8).forEach(function(p){
  var row = el("div","bar-row fix-row"); row.appendChild(el("span","mono",p));
  var bar = el("div","bar"); var fill = el("div","fill-red"); fill.style.width=(100*counts[p]/max)+"%"; bar.appendChild(fill); row.appendChild(bar);
  row.appendChild(el("span",null,counts[p]+" missing")); fl.appendChild(row);
});
if(!order.length){ fl.appendChild(el("p","note","Nothing to fix: every call site has receipts.")); }
// Provider filter options.
var provSel = document.getElementById("f-provider"), seen = {};
data.findings.forEach(function(f){ if(!seen[f.provider]){seen[f.provider]=1; var o=el("option",null,f.provider); provSel.appendChild(o);} });
// Findings table.
var holder = document.getElementById("table-holder"), showing = document.getElementById("showing");
if(!data.findings.length){ holder.appendChild(el("p","note","No LLM call sites detected.")); showing.textContent=""; return; }
var cols = [["confidence","Confidence"],["path","File"],["line","Line"],["provider","Provider"],["instrumented","Status"],["fix","Fix"]];
var hasLang = data.findings.some(function(f){ return !!f.lang; });
if(hasLang){ cols.splice(3,0,["lang","Language"]); }
var sortKey = null, sortDir = 1;
var table = el("table"); table.id = "findings-table"; var thead = el("thead"), tr = el("tr");
cols.forEach(function(c){ var th = el("th",null,c[1]); if(c[0]==="confidence"){th.title="high: a known SDK call; medium: a framework call; low: a helper name that suggests an LLM call";} th.addEventListener("click",function(){ if(sortKey===c[0]){sortDir=-sortDir;}else{sortKey=c[0];sortDir=1;} render(); }); tr.appendChild(th); });
thead.appendChild(tr); table.appendChild(thead); var tbody = el("tbody"); table.appendChild(tbody); holder.appendChild(table);
function matches(f){
  var p = document.getElementById("f-path").value.toLowerCase(), c = document.getElementById("f-conf").value, pv = provSel.value, s = document.getElementById("f-status").value, sc = document.getElementById("f-scope").value;
  if(p && f.path.toLowerCase().indexOf(p)<0) return false;
  if(c && f.confidence!==c) return false;
  if(pv && f.provider!==pv) return false;
  if(s==="instrumented" && !f.instrumented) return false;
  if(s==="missing" && f.instrumented) return false;
  if(sc==="prod" && f.is_test) return false;
  if(sc==="test" && !f.is_test) return false;
  return true;
}
function render(){
  while(tbody.firstChild){tbody.removeChild(tbody.firstChild);}
  var rows = data.findings.filter(matches);
  if(sortKey){ rows = rows.slice().sort(function(a,b){var x=a[sortKey],y=b[sortKey]; if(x===y)return 0; return (x>y?1:-1)*sortDir;}); }
  rows.forEach(function(f){
    var r = el("tr","finding"); r.setAttribute("data-path",f.path); r.setAttribute("data-line",f.line);
    r.appendChild(el("td","conf conf-"+f.confidence,f.confidence.toUpperCase()));
    var td = el("td","mono path",f.path); if(f.is_test){td.appendChild(el("span","badge test","test"));} r.appendChild(td);
    r.appendChild(el("td","mono",f.line));
    if(hasLang){ r.appendChild(el("td","lang",f.lang)); }
    r.appendChild(el("td",null,f.provider));
    var st = el("td"); st.appendChild(el("span", f.instrumented?"badge ok status":"badge no status", f.instrumented?"INSTRUMENTED":"NO RECEIPT")); r.appendChild(st);
    var fx = el("td","fix");
    if(f.fix){ var b = el("button","copy mono",f.fix); b.title="Copy to clipboard"; b.addEventListener("click",function(){ if(navigator.clipboard){navigator.clipboard.writeText(f.fix);} }); fx.appendChild(b); }
    r.appendChild(fx); tbody.appendChild(r);
  });
  showing.textContent = "Showing " + rows.length + " of " + data.findings.length + " findings";
}
["f-path","f-conf","f-provider","f-status","f-scope"].forEach(function(id){ document.getElementById(id).addEventListener("input",render); document.getElementById(id).addEventListener("change",render); });
render();
})();
`
