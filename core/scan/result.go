package scan

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/coverage"
)

// Summary counts findings; High/Medium/Low count uninstrumented ones.
type Summary struct {
	SitesTotal     int `json:"sites_total"`
	Instrumented   int `json:"instrumented"`
	Uninstrumented int `json:"uninstrumented"`
	High           int `json:"high"`
	Medium         int `json:"medium"`
	Low            int `json:"low"`
}

// Summary computes the counts (scanner.md §1.6).
func (r *Result) Summary() Summary {
	var s Summary
	for _, f := range r.Findings {
		s.SitesTotal++
		if f.Instrumented {
			s.Instrumented++
			continue
		}
		s.Uninstrumented++
		switch f.Confidence {
		case High:
			s.High++
		case Medium:
			s.Medium++
		case Low:
			s.Low++
		}
	}
	return s
}

// Status is pass, warn or fail.
func (s Summary) Status() string {
	switch {
	case s.High > 0:
		return "fail"
	case s.Medium > 0 || s.Low > 0:
		return "warn"
	}
	return "pass"
}

// Blocked applies --ci --fail-on: high blocks on uninstrumented high,
// medium on high+medium, low on any uninstrumented finding. An unknown
// level means high, as in the reference.
func (s Summary) Blocked(failOn string) bool {
	switch failOn {
	case "low":
		return s.Uninstrumented > 0
	case "medium":
		return s.High+s.Medium > 0
	}
	return s.High > 0
}

// Step is one next step.
type Step struct {
	Title    string   `json:"title"`
	Commands []string `json:"commands"`
}

const (
	runCmd     = "assay run -c receipt_completeness -- python your_app.py"
	gatewayRun = "assay run --gateway -c receipt_completeness -- python your_app.py"
	// VerifyLatest verifies the newest pack under the working directory.
	VerifyLatest = "assay verify-pack --latest"
)

// Frameworks is the reference's _detect_frameworks over findings.
func Frameworks(fs []Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range fs {
		if fw := FrameworkOf(f); fw != "" {
			out[fw] = true
		}
	}
	return out
}

var patchable = []string{"anthropic", "google", "litellm", "openai"}

// patchLine is the recommended instrumentation line over all findings.
func patchLine(fs []Finding) string {
	F := Frameworks(fs)
	P := map[string]bool{}
	for _, p := range patchable {
		if F[p] {
			P[p] = true
		}
	}
	switch {
	case len(F) > 1 && len(P) > 0:
		return "assay patch ."
	case P["openai"]:
		return FixOpenAI
	case P["anthropic"]:
		return FixAnthropic
	case F["langchain"]:
		return FixLangchain
	case P["google"]:
		return FixGoogle
	case P["litellm"]:
		return FixLitellm
	}
	return ""
}

// NextSteps are the reference's guidance steps (§1.6).
func (r *Result) NextSteps() []Step {
	if len(r.Findings) == 0 {
		return []Step{}
	}
	if !r.UsesReferencePackage {
		// Steps are about the program: findings in test code (mocks, test
		// clients) do not ask for a patch of the entrypoint.
		prod := *r
		prod.Findings = nil
		for _, f := range r.Findings {
			if !f.InTestPath {
				prod.Findings = append(prod.Findings, f)
			}
		}
		if len(prod.Findings) > 0 {
			r = &prod
		}
	}
	s := r.Summary()
	// A tree with only Go findings gets Go commands; anything with Python
	// keeps the reference's texts exactly.
	onlyGo, onlyTS := true, true
	for _, f := range r.Findings {
		if f.Lang != "go" {
			onlyGo = false
		}
		if f.Lang != "typescript" {
			onlyTS = false
		}
	}
	run, app := runCmd, "python your_app.py"
	if onlyGo {
		run, app = "assay run -c receipt_completeness -- go run .", "go run ."
	}
	if onlyTS {
		run, app = "assay run -c receipt_completeness -- npm start", "npm start"
	}
	// --latest finds the newest pack by its manifest; the reference's
	// ./proof_pack_*/ matches every pack once there are two.
	verify := Step{"Verify and lock your baseline", []string{VerifyLatest, "assay lock init"}}
	if s.Uninstrumented == 0 {
		return []Step{
			{"Generate a fresh proof pack", []string{run}},
			verify,
			{"Enable CI evidence gating", []string{`assay ci init github --run-command "` + app + `"`}},
		}
	}
	gen := Step{"Generate a proof pack", []string{run}}
	line := patchLine(r.Findings)
	if onlyGo || onlyTS {
		line = "assay patch ."
	}
	if !r.UsesReferencePackage && !onlyGo && !onlyTS {
		// Name this tool's commands, not the reference's package.
		switch {
		case line == "" || line == FixLangchain:
			return []Step{{"Record every provider call through assay's gateway (no code change)", []string{gatewayRun}}, verify}
		default:
			line = "assay patch ."
		}
	}
	switch line {
	case "assay patch .":
		return []Step{{"Auto-instrument your entrypoint based on scan findings", []string{line}}, gen, verify}
	case "":
		return []Step{
			{"Add receipt emission near your LLM wrapper", []string{"from assay import emit_receipt", "emit_receipt('model_call', {'provider': '...', 'model_id': '...'})"}},
			gen,
			{"Verify and lock your baseline", []string{VerifyLatest, "assay lock write --cards receipt_completeness -o assay.lock"}},
		}
	default:
		return []Step{{"Add instrumentation in your entrypoint", []string{line}}, gen, verify}
	}
}

// NextCommand renders steps as "N) Title:" plus indented commands.
func NextCommand(steps []Step) *string {
	if len(steps) == 0 {
		return nil
	}
	parts := make([]string, 0, len(steps))
	for i, st := range steps {
		lines := []string{fmt.Sprintf("%d) %s:", i+1, st.Title)}
		for _, c := range st.Commands {
			lines = append(lines, "   "+c)
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	s := strings.Join(parts, "\n\n")
	return &s
}

// Document is the scan's --json output, keys in the reference's order.
type Document struct {
	Tool        string    `json:"tool"`
	Status      string    `json:"status"`
	Summary     Summary   `json:"summary"`
	Findings    []Finding `json:"findings"`
	NextCommand *string   `json:"next_command" jsonschema:"oneof_type=string;null"`
	NextSteps   []Step    `json:"next_steps"`
	ScanStatus  string    `json:"scan_status"`
	// Refused lists the files the scan would not open or read whole (a
	// link out of the root, a FIFO or device, a file over the byte cap),
	// with the reason; absent when there are none, so the document of a
	// plain tree is the reference's.
	Refused []Skipped `json:"refused_files,omitempty"`
	// TestCode counts the findings in test code apart (absent when none).
	TestCode *TestCode `json:"test_code,omitempty"`
	// NextOffset, when a page of findings was asked for (ops.ScanRequest
	// Limit) and more follow, is the offset of the next page; absent
	// otherwise, so the whole document stays the reference's.
	NextOffset *int `json:"next_offset,omitempty"`
}

// Refused returns the skipped files that were refused for safety.
func (r *Result) Refused() []Skipped {
	var out []Skipped
	for _, s := range r.Skipped {
		if s.Refused {
			out = append(out, s)
		}
	}
	return out
}

// Document builds the JSON document; status is "ok" or "blocked".
func (r *Result) Document(status string) Document {
	steps := r.NextSteps()
	fs := r.Findings
	if fs == nil {
		fs = []Finding{}
	}
	s := r.Summary()
	return Document{Tool: "assay-scan", Status: status, Summary: s, Findings: fs, NextCommand: NextCommand(steps), NextSteps: steps, ScanStatus: s.Status(), Refused: r.Refused(), TestCode: r.TestCode()}
}

// ContractOptions select the contract's sites.
type ContractOptions struct {
	IncludeLow bool
}

// excludedFromContract are frameworks the reference leaves out of the
// contract (no runtime callsite support), plus the TS/JS agent frameworks
// (Mastra, OpenAI Agents), whose model calls happen inside the framework
// and are measured at the SDK calls they make.
var excludedFromContract = map[string]bool{"langchain": true, "litellm": true, "mastra": true, "openai-agents": true}

// Contract builds the coverage contract from the findings, in scan order.
// It also returns how many findings were left out as LangChain/LiteLLM.
func (r *Result) Contract(opt ContractOptions, at time.Time) (*coverage.Contract, int) {
	var sites []coverage.Site
	excluded := 0
	for _, f := range r.Findings {
		if f.Confidence == Low && !opt.IncludeLow {
			continue
		}
		if excludedFromContract[f.Framework] {
			excluded++
			continue
		}
		sites = append(sites, coverage.Site{
			CallsiteID: coverage.CallsiteID(f.Path, f.Line), Path: f.Path, Line: f.Line, Call: f.Call,
			Confidence: f.Confidence, Instrumented: f.Instrumented, Framework: f.Framework,
		})
	}
	return coverage.New(r.Root, sites, at), excluded
}

// UninstrumentedByFile counts uninstrumented findings per path, most first
// (ties in path order).
func (r *Result) UninstrumentedByFile() []FileCount {
	m := map[string]int{}
	var order []string
	for _, f := range r.Findings {
		if f.Instrumented {
			continue
		}
		if _, ok := m[f.Path]; !ok {
			order = append(order, f.Path)
		}
		m[f.Path]++
	}
	out := make([]FileCount, 0, len(order))
	for _, p := range order {
		out = append(out, FileCount{p, m[p]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// FileCount is a path and a count.
type FileCount struct {
	Path  string
	Count int
}
