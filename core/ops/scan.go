package ops

import (
	"os"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/scan"
)

// ScanRequest asks to scan a source tree for LLM call sites.
type ScanRequest struct {
	Path             string
	Include, Exclude []string
	// NoGo scans Python only (the reference); NoTS skips TS/JS.
	NoGo, NoTS bool
	// Languages keeps only findings in these languages (python, go,
	// typescript); empty keeps all.
	Languages []string
	// MinConfidence drops findings below it (high, medium, low; "" = low).
	MinConfidence string
	// OnlyUninstrumented lists only uninstrumented findings (the summary
	// still counts all).
	OnlyUninstrumented bool
	// MaxFileBytes caps the bytes read per file (nil: the default 4 MiB;
	// 0: no limit).
	MaxFileBytes *int64
	Workers      int
	// IncludeLow keeps LOW-confidence sites in the coverage contract.
	IncludeLow bool
	// Limit and Offset page the findings list (Limit 0: all of them).
	Limit, Offset int
	// CI makes the status "blocked" when uninstrumented findings reach
	// FailOn (high, medium or low; default high).
	CI     bool
	FailOn string
	// ExcludeTests leaves findings in test code out (scan.IsTestPath).
	ExcludeTests bool
}

// ScanHooks are what a front end adds to a scan.
type ScanHooks struct {
	// Root is the scan root already opened inside the caller's confinement.
	Root *os.Root
	// Progress is called after each file.
	Progress func(done, total int)
}

// ScanOutcome is a finished scan: the result (for contracts, reports and
// text) and the one --json document.
type ScanOutcome struct {
	Result   *scan.Result
	Document scan.Document
	Blocked  bool
}

var tiers = map[string]int{scan.Low: 0, scan.Medium: 1, scan.High: 2}

// Validate checks the request's values.
func (r ScanRequest) Validate() error {
	if r.FailOn != "" && !inTiers(r.FailOn) {
		return exit.Bad("use high, medium or low", "unknown fail-on level %q", r.FailOn)
	}
	if r.MinConfidence != "" && !inTiers(r.MinConfidence) {
		return exit.Bad("use high, medium or low", "unknown min confidence %q", r.MinConfidence)
	}
	for _, l := range r.Languages {
		if l != "python" && l != "go" && l != "typescript" {
			return exit.Bad("use python, go or typescript", "unknown language %q", l)
		}
	}
	if r.MaxFileBytes != nil && *r.MaxFileBytes < 0 {
		return exit.Bad("give a number of bytes, e.g. --max-file-bytes 4194304, or 0 for no limit", "max file bytes %d is negative", *r.MaxFileBytes)
	}
	if r.Limit < 0 || r.Offset < 0 {
		return exit.Bad("give 0 or more", "limit and offset must be >= 0")
	}
	return nil
}

func inTiers(s string) bool { _, ok := tiers[s]; return ok }

// Options turns the request into scanner options.
func (r ScanRequest) Options(h ScanHooks) scan.Options {
	langs := r.langs()
	o := scan.Options{
		Include: scan.SplitList(r.Include), Exclude: scan.SplitList(r.Exclude),
		NoGo: r.NoGo || (!langs["go"] && !langs["typescript"]), NoTS: r.NoTS || !langs["typescript"],
		Workers: r.Workers, Root: h.Root, Progress: h.Progress, ExcludeTests: r.ExcludeTests,
	}
	if r.MaxFileBytes != nil {
		o.MaxFileSize = *r.MaxFileBytes
		if o.MaxFileSize == 0 {
			o.MaxFileSize = -1 // no cap
		}
	}
	return o
}

func (r ScanRequest) langs() map[string]bool {
	all := len(r.Languages) == 0
	m := map[string]bool{"python": all, "go": all, "typescript": all}
	for _, l := range r.Languages {
		m[l] = true
	}
	return m
}

// Scan runs the request: the findings filtered by language and confidence
// (the summary counts what is left), then the listed page.
func Scan(r ScanRequest, h ScanHooks) (*ScanOutcome, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Path) == "" {
		r.Path = "."
	}
	res, err := scan.Scan(r.Path, r.Options(h))
	if err != nil {
		return nil, err
	}
	langs, floor := r.langs(), tiers[r.MinConfidence]
	kept := res.Findings[:0:0]
	for _, f := range res.Findings {
		if langs[f.Lang] && tiers[f.Confidence] >= floor {
			kept = append(kept, f)
		}
	}
	res.Findings = kept
	failOn := r.FailOn
	if failOn == "" {
		failOn = scan.High
	}
	blocked := r.CI && res.Summary().Blocked(failOn)
	status := "ok"
	if blocked {
		status = "blocked"
	}
	doc := res.Document(status)
	if r.OnlyUninstrumented {
		listed := doc.Findings[:0:0]
		for _, f := range doc.Findings {
			if !f.Instrumented {
				listed = append(listed, f)
			}
		}
		doc.Findings = listed
	}
	if r.Offset > 0 || r.Limit > 0 {
		fs := doc.Findings
		off := min(r.Offset, len(fs))
		end := len(fs)
		if r.Limit > 0 && off+r.Limit < end {
			end = off + r.Limit
			next := end
			doc.NextOffset = &next
		}
		doc.Findings = fs[off:end]
	}
	return &ScanOutcome{Result: res, Document: doc, Blocked: blocked}, nil
}
