package tools

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/version"
)

// ScanArgs are the arguments of scan, filling the same ops.ScanRequest as
// 'assay scan'.
type ScanArgs struct {
	Path               string     `json:"path,omitempty" jsonschema:"description=Directory to scan (default: the first root)"`
	Languages          []Language `json:"languages,omitempty" jsonschema:"description=Languages to report (default all),uniqueItems=true"`
	MinConfidence      string     `json:"min_confidence,omitempty" jsonschema:"description=Confidence floor of the findings (default low),enum=high,enum=medium,enum=low"`
	OnlyUninstrumented bool       `json:"only_uninstrumented,omitempty" jsonschema:"description=List only call sites that emit no evidence (the summary still counts all)"`
	Include            []string   `json:"include,omitempty" jsonschema:"description=Only scan files matching these fnmatch patterns"`
	Exclude            []string   `json:"exclude,omitempty" jsonschema:"description=fnmatch patterns of files to skip"`
	Contract           string     `json:"contract,omitempty" jsonschema:"description=Also write the coverage contract to this new file"`
	IncludeLow         bool       `json:"include_low,omitempty" jsonschema:"description=Keep LOW-confidence sites in the contract"`
	ExcludeTests       bool       `json:"exclude_tests,omitempty" jsonschema:"description=Leave findings in test code (tests/ and test_*.py and *.test.ts ...) out; they are counted in test_code"`
	Report             string     `json:"report,omitempty" jsonschema:"description=Also write the HTML Evidence Gap Report to this new .html file"`
	Limit              int        `json:"limit,omitempty" jsonschema:"description=List at most this many findings (default: all); next_offset pages on,minimum=1"`
	Offset             int        `json:"offset,omitempty" jsonschema:"description=Skip this many findings (paging),minimum=0"`
	MaxFileBytes       *int64     `json:"max_file_bytes,omitempty" jsonschema:"description=Read at most this many bytes per file; larger files are skipped and listed (default 4 MiB; 0: no limit),minimum=0"`
}

func (a ScanArgs) request() ops.ScanRequest {
	r := ops.ScanRequest{
		Path: a.Path, MinConfidence: a.MinConfidence, OnlyUninstrumented: a.OnlyUninstrumented,
		Include: a.Include, Exclude: a.Exclude, IncludeLow: a.IncludeLow, ExcludeTests: a.ExcludeTests, Limit: a.Limit, Offset: a.Offset, MaxFileBytes: a.MaxFileBytes,
	}
	for _, l := range a.Languages {
		r.Languages = append(r.Languages, string(l))
	}
	return r
}

// ScanResult is what scan returns: the document 'assay scan --json' prints
// (the reference's, schemas/scan-result.schema.json), plus the paths of the
// files this call wrote.
type ScanResult struct {
	scan.Document
	ContractPath string `json:"contract_path,omitempty" jsonschema:"description=The coverage contract this call wrote"`
	ReportPath   string `json:"report_path,omitempty" jsonschema:"description=The HTML report this call wrote"`
}

// Language is a scanned language.
type Language string

// JSONSchema restricts Language to the scanned languages.
func (Language) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Enum: []any{"python", "go", "typescript"}}
}

func scanTool() Tool {
	return newTool("scan", "Find LLM call sites",
		"Scan a source tree (Python, Go, TypeScript/JavaScript) for LLM call sites and whether each emits evidence; returns the same document as 'assay scan --json' (summary, findings, next steps), paged with limit/offset. Optionally writes the coverage contract or the HTML report (new files only).",
		Annotations{ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a ScanArgs) (ScanResult, string, error) {
			req := a.request()
			if err := req.Validate(); err != nil {
				return ScanResult{}, "", err
			}
			if req.Path == "" {
				req.Path = c.Server.roots.list()[0]
			}
			p, err := c.Path(ctx, req.Path)
			if err != nil {
				return ScanResult{}, "", err
			}
			req.Path = p
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
			sc, err := ops.Scan(req, ops.ScanHooks{Root: sub})
			if err != nil {
				return ScanResult{}, "", err
			}
			res := sc.Result
			out := ScanResult{Document: sc.Document}
			if contract != nil {
				ct, _ := res.Contract(scan.ContractOptions{IncludeLow: req.IncludeLow}, time.Now())
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
			s := out.Summary
			sum := fmt.Sprintf("%d of %d call sites instrumented in %d files under %s", s.Instrumented, s.SitesTotal, res.Files, res.Root)
			if out.NextOffset != nil {
				sum += fmt.Sprintf("; %d listed, more with offset %d", len(out.Findings), *out.NextOffset)
			}
			return out, sum, nil
		})
}
