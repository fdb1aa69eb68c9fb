package tools

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/version"
)

// ScanArgs are the arguments of scan.
type ScanArgs struct {
	Path               string     `json:"path,omitempty" jsonschema:"description=Directory to scan (default: the first root)"`
	Languages          []Language `json:"languages,omitempty" jsonschema:"description=Languages to report (default all),uniqueItems=true"`
	MinConfidence      string     `json:"min_confidence,omitempty" jsonschema:"description=Confidence floor of the listed call sites (default low),enum=high,enum=medium,enum=low"`
	OnlyUninstrumented bool       `json:"only_uninstrumented,omitempty" jsonschema:"description=List only call sites that emit no evidence"`
	Exclude            []string   `json:"exclude,omitempty" jsonschema:"description=fnmatch patterns of files to skip"`
	Contract           string     `json:"contract,omitempty" jsonschema:"description=Also write the coverage contract to this new file"`
	Report             string     `json:"report,omitempty" jsonschema:"description=Also write the HTML Evidence Gap Report to this new .html file"`
	Limit              int        `json:"limit,omitempty" jsonschema:"description=Maximum call sites listed (default 20),minimum=1,maximum=200"`
	Offset             int        `json:"offset,omitempty" jsonschema:"description=Skip this many call sites (paging),minimum=0"`
	MaxFileBytes       int64      `json:"max_file_bytes,omitempty" jsonschema:"description=Read at most this many bytes per file; larger files are skipped and listed (default 4 MiB),minimum=1"`
}

// RefusedFile is a file the scan would not open or read whole.
type RefusedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason" jsonschema:"description=links outside the scanned root, not a regular file (FIFO, device), or larger than the byte cap"`
}

// CallSite is one LLM call site.
type CallSite struct {
	Path         string `json:"path"`
	Line         int    `json:"line"`
	Call         string `json:"call"`
	Lang         string `json:"lang"`
	Confidence   string `json:"confidence" jsonschema:"enum=high,enum=medium,enum=low"`
	Instrumented bool   `json:"instrumented"`
	Fix          string `json:"fix,omitempty"`
}

// ScanResult is what scan returns.
type ScanResult struct {
	Root           string        `json:"root"`
	Files          int           `json:"files"`
	SitesTotal     int           `json:"sites_total" jsonschema:"description=Call sites matching the filters"`
	Instrumented   int           `json:"instrumented"`
	Uninstrumented int           `json:"uninstrumented"`
	CoveragePct    float64       `json:"coverage_pct"`
	Sites          []CallSite    `json:"sites"`
	NextOffset     *int          `json:"next_offset,omitempty" jsonschema:"description=Pass as offset to get the next page"`
	Skipped        int           `json:"skipped_files"`
	Refused        []RefusedFile `json:"refused_files" jsonschema:"description=Files not read: links out of the root, FIFOs and devices, files over max_file_bytes"`
	ContractPath   string        `json:"contract_path,omitempty"`
	ReportPath     string        `json:"report_path,omitempty"`
	NextSteps      []string      `json:"next_steps"`
}

// Language is a scanned language.
type Language string

// JSONSchema restricts Language to the scanned languages.
func (Language) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Enum: []any{"python", "go", "typescript"}}
}

var tier = map[string]int{scan.Low: 0, scan.Medium: 1, scan.High: 2}

func scanTool() Tool {
	return newTool("scan", "Find LLM call sites",
		"Scan a source tree (Python, Go, TypeScript/JavaScript) for LLM call sites and whether each emits evidence; returns coverage and a page of sites. Optionally writes the coverage contract or the HTML report (new files only).",
		Annotations{ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a ScanArgs) (ScanResult, string, error) {
			if a.Path == "" {
				a.Path = c.Server.roots.list()[0]
			}
			p, err := c.Path(ctx, a.Path)
			if err != nil {
				return ScanResult{}, "", err
			}
			// Outputs are written through their allowed root (confine.go).
			var contract, report, side *output
			if a.Contract != "" {
				if contract, err = c.Output(ctx, a.Contract); err != nil {
					return ScanResult{}, "", err
				}
				defer contract.Close()
			}
			if a.Report != "" {
				if report, err = c.Output(ctx, a.Report); err != nil {
					return ScanResult{}, "", err
				}
				defer report.Close()
				base := filepath.Base(report.rel)
				side = report.sibling(strings.TrimSuffix(base, filepath.Ext(base)) + ".json")
				if _, err := side.root.Lstat(side.rel); err == nil {
					return ScanResult{}, "", Failf("the report's JSON sidecar %s already exists; choose another report path", side.path)
				}
			}
			all := len(a.Languages) == 0
			langs := map[string]bool{"python": all, "go": all, "typescript": all}
			for _, l := range a.Languages {
				langs[string(l)] = true
			}
			// The scan reads through a root opened inside the allowed root,
			// so the directory cannot be swapped for a link out meanwhile.
			if _, err := scan.CheckRoot(p); err != nil {
				return ScanResult{}, "", err
			}
			sub, err := c.openDirIn(p)
			if err != nil {
				return ScanResult{}, "", err
			}
			defer sub.Close()
			res, err := scan.Scan(p, scan.Options{Exclude: a.Exclude, NoGo: !langs["go"] && !langs["typescript"], NoTS: !langs["typescript"], MaxFileSize: a.MaxFileBytes, Root: sub})
			if err != nil {
				return ScanResult{}, "", err
			}
			floor := tier[a.MinConfidence]
			out := ScanResult{Root: res.Root, Files: res.Files, Skipped: len(res.Skipped), Sites: []CallSite{}, NextSteps: []string{}, Refused: []RefusedFile{}}
			for _, r := range bound(res.Refused(), maxLimit) {
				out.Refused = append(out.Refused, RefusedFile{Path: r.Path, Reason: r.Reason})
			}
			var sites []CallSite
			for _, f := range res.Findings {
				if !langs[f.Lang] || tier[f.Confidence] < floor {
					continue
				}
				if f.Instrumented {
					out.Instrumented++
				} else {
					out.Uninstrumented++
				}
				if a.OnlyUninstrumented && f.Instrumented {
					continue
				}
				sites = append(sites, CallSite{Path: f.Path, Line: f.Line, Call: f.Call, Lang: f.Lang, Confidence: f.Confidence, Instrumented: f.Instrumented, Fix: f.Fix})
			}
			out.SitesTotal = out.Instrumented + out.Uninstrumented
			if out.SitesTotal > 0 {
				out.CoveragePct = float64(out.Instrumented*1000/out.SitesTotal) / 10
			}
			n := limitOr(a.Limit)
			if a.Offset < len(sites) {
				out.Sites = bound(sites[a.Offset:], n)
				if next := a.Offset + len(out.Sites); next < len(sites) {
					out.NextOffset = &next
				}
			}
			for _, st := range res.NextSteps() {
				out.NextSteps = append(out.NextSteps, st.Title+": "+strings.Join(st.Commands, " && "))
			}
			out.NextSteps = bound(out.NextSteps, 5)
			if contract != nil {
				ct, _ := res.Contract(scan.ContractOptions{IncludeLow: floor == 0}, time.Now())
				b, err := ct.Marshal()
				if err == nil {
					err = contract.WriteNew(b)
				}
				if err != nil {
					return ScanResult{}, "", fmt.Errorf("write the contract: %w", err)
				}
				out.ContractPath = contract.path
			}
			if report != nil {
				rep := scan.BuildReport(res, scan.ReportMeta{AssayVersion: version.Version, GeneratedAt: receipt.Now(), RepoName: filepath.Base(res.Root), RepoRoot: res.Root})
				page, err := rep.HTML()
				if err != nil {
					return ScanResult{}, "", fmt.Errorf("render the report: %w", err)
				}
				sideJSON, err := rep.SidecarJSON()
				if err != nil {
					return ScanResult{}, "", fmt.Errorf("render the report: %w", err)
				}
				if err := report.WriteNew(page); err != nil {
					return ScanResult{}, "", fmt.Errorf("write the report: %w", err)
				}
				if err := side.WriteNew(sideJSON); err != nil {
					return ScanResult{}, "", fmt.Errorf("write the report sidecar: %w", err)
				}
				out.ReportPath = report.path
			}
			sum := fmt.Sprintf("%d of %d call sites instrumented (%.1f%%) in %d files under %s", out.Instrumented, out.SitesTotal, out.CoveragePct, out.Files, out.Root)
			if out.NextOffset != nil {
				sum += fmt.Sprintf("; %d listed, more with offset %d", len(out.Sites), *out.NextOffset)
			}
			return out, sum, nil
		})
}
