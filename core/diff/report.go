package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"path/filepath"
	"strings"
	"sync"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// WriteReport writes r to path as JSON (.json) or as a self-contained HTML
// page (.html/.htm: inline CSS, no scripts, no external resources),
// atomically. Any other extension is bad input.
func WriteReport(path string, r *Result) error {
	var data []byte
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		data, err = json.MarshalIndent(r, "", "  ")
		data = append(data, '\n')
	case ".html", ".htm":
		data, err = HTML(r)
	default:
		return exit.Bad("name the report file .html or .json", "unknown report format %q", path)
	}
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if fsutil.IsDir(path) {
		return exit.Bad("give a file name", "report path %s is a directory", path)
	}
	if err := fsutil.WriteFileAtomic(path, data, 0o644); err != nil {
		return exit.Bad("choose a writable --report path", "cannot write report %s: %v", path, err)
	}
	return nil
}

// HTML renders the self-contained HTML report.
func HTML(r *Result) ([]byte, error) {
	var b bytes.Buffer
	if err := reportTmpl().Execute(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Parsed on first use: at init, every start of a binary linking this
// package paid for it.
var reportTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("diff").Funcs(template.FuncMap{
		"usd": func(f float64) string { return fmt.Sprintf("$%.6f", f) },
		"ms": func(p *float64) string {
			if p == nil {
				return "n/a"
			}
			return fmt.Sprintf("%g ms", *p)
		},
		"pb": func(p *bool) string {
			if p == nil {
				return "—"
			}
			if *p {
				return "pass"
			}
			return "FAIL"
		},
		"gate": func(g Gate) string {
			switch {
			case g.Skipped:
				return "skipped"
			case g.Passed:
				return "passed"
			}
			return "FAILED"
		},
	}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>assay diff: {{.A.PackID}} → {{.B.PackID}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0} th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} code{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.status{display:inline-block;padding:.2rem .6rem;border-radius:4px;font-weight:600}
.ok{background:#dafbe1;color:#116329} .bad{background:#ffebe9;color:#a40e26} .warn{background:#fff8c5;color:#7d4e00}
.regressed,.FAILED,.removed{color:#a40e26;font-weight:600} .improved,.added{color:#116329} .skipped{color:#57606a}
</style></head><body>
<h1>assay diff</h1>
<p><span id="status" class="status {{if eq .ExitCode 0}}ok{{else if eq .ExitCode 2}}bad{{else}}warn{{end}}">{{.Status}} (exit {{.ExitCode}})</span></p>
{{if .Reasons}}<ul id="reasons">{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Packs</h2>
<table id="packs"><tr><th></th><th>A (baseline)</th><th>B (new)</th></tr>
<tr><th>Path</th><td><code>{{.A.Path}}</code></td><td><code>{{.B.Path}}</code></td></tr>
<tr><th>Pack ID</th><td><code>{{.A.PackID}}</code></td><td><code>{{.B.PackID}}</code></td></tr>
<tr><th>Receipts</th><td>{{.A.NReceipts}}</td><td>{{.B.NReceipts}}</td></tr>
<tr><th>Claim check</th><td>{{.A.ClaimCheck}}</td><td>{{.B.ClaimCheck}}</td></tr>
<tr><th>Signer</th><td>{{.A.SignerID}} <code>{{.A.SignerFingerprint}}</code></td><td>{{.B.SignerID}} <code>{{.B.SignerFingerprint}}</code></td></tr>
<tr><th>Time span</th><td>{{.A.TimestampStart}} – {{.A.TimestampEnd}}</td><td>{{.B.TimestampStart}} – {{.B.TimestampEnd}}</td></tr>
</table>
<p>Integrity preflight: {{if .Verified}}{{range .Preflight}}<code>{{.Path}}</code>: {{.Verdict}} (exit {{.ExitCode}}){{range .Errors}}<br>&nbsp;&nbsp;{{.}}{{end}}<br>{{end}}{{else}}skipped (--no-verify){{end}}
{{if .SignerChanged}}<br><strong>The signer changed.</strong>{{end}}{{if .VersionChanged}}<br>The builder version changed.{{end}}{{if not .SameClaimSet}}<br>The packs were built with different claim sets.{{end}}</p>
{{if .AnalysisA}}
<h2>Claims</h2>
{{if .Claims}}<table id="claims"><tr><th>Claim</th><th>Status</th><th>A</th><th>B</th><th>Expected</th><th>Actual (B)</th></tr>
{{range .Claims}}<tr><td><code>{{.ClaimID}}</code></td><td class="{{.Status}}">{{.Status}}</td><td>{{pb .Before}}</td><td>{{pb .After}}</td><td>{{.Expected}}</td><td>{{.Actual}}</td></tr>{{end}}
</table>{{else}}<p>Neither pack evaluated claims.</p>{{end}}
<h2>Model calls</h2>
<table id="summary"><tr><th></th><th>A</th><th>B</th></tr>
<tr><th>Calls</th><td>{{.AnalysisA.ModelCalls}}</td><td>{{.AnalysisB.ModelCalls}}</td></tr>
<tr><th>Input tokens</th><td>{{.AnalysisA.InputTokens}}</td><td>{{.AnalysisB.InputTokens}}</td></tr>
<tr><th>Output tokens</th><td>{{.AnalysisA.OutputTokens}}</td><td>{{.AnalysisB.OutputTokens}}</td></tr>
<tr><th>Cost (USD)</th><td>{{usd .AnalysisA.CostUSD}}</td><td>{{usd .AnalysisB.CostUSD}}</td></tr>
<tr><th>Latency p50</th><td>{{ms .AnalysisA.LatencyP50Ms}}</td><td>{{ms .AnalysisB.LatencyP50Ms}}</td></tr>
<tr><th>Latency p95</th><td>{{ms .AnalysisA.LatencyP95Ms}}</td><td>{{ms .AnalysisB.LatencyP95Ms}}</td></tr>
<tr><th>Errors</th><td>{{.AnalysisA.Errors}}</td><td>{{.AnalysisB.Errors}}</td></tr>
</table>
{{if .Models}}<table id="models"><tr><th>Model</th><th>Status</th><th>Calls A</th><th>Calls B</th><th>Tokens A</th><th>Tokens B</th><th>Cost A</th><th>Cost B</th></tr>
{{range .Models}}<tr><td><code>{{.Model}}</code></td><td class="{{.Status}}">{{.Status}}</td><td>{{.CallsA}}</td><td>{{.CallsB}}</td><td>{{.TokensA}}</td><td>{{.TokensB}}</td><td>{{usd .CostA}}</td><td>{{usd .CostB}}</td></tr>{{end}}
</table>{{end}}
{{end}}
{{if .Gates}}<h2>Gates</h2>
<table id="gates"><tr><th>Gate</th><th>Threshold</th><th>Outcome</th><th>Detail</th></tr>
{{range .Gates}}<tr><td>{{.Name}}</td><td>{{.Threshold}}</td><td class="{{gate .}}">{{gate .}}</td><td>{{.Detail}}</td></tr>{{end}}
</table>{{end}}
{{if .Why}}<h2>Why (parent_receipt_id chains in B)</h2>
{{range .Why}}<h3><code>{{.ClaimID}}</code>{{if .ReceiptID}} ← <code>{{.ReceiptID}}</code>{{end}}</h3>
{{if .Chain}}<ol class="chain">{{range .Chain}}<li><code>{{.ReceiptID}}</code> {{.Type}} {{.Timestamp}} {{.Summary}}</li>{{end}}</ol>{{end}}
{{if .Note}}<p>{{.Note}}</p>{{end}}{{end}}{{end}}
<p style="color:#57606a;margin-top:2rem">{{.SchemaVersion}} · exit 0 clean · 1 regression or gate failure · 2 integrity failure · 3 bad input</p>
</body></html>
`))
})
