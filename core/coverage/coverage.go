// Package coverage is the coverage contract: the list of LLM call sites a
// scan found, each with a callsite_id, sealed by a contract_hash, and the
// measurement of how many of those ids show up in a pack's receipts
// (scanner.md §1.9 and §3). The file format and both hashes are the
// reference's, so contracts written by either tool load in the other.
package coverage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/pyjson"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/receipt"
)

// Version is the contract_version we write.
const Version = "1.0"

// Site is one call site of the contract, in the reference's key order.
type Site struct {
	CallsiteID   string `json:"callsite_id"`
	Path         string `json:"path"`
	Line         int    `json:"line"`
	Call         string `json:"call"`
	Confidence   string `json:"confidence"`
	Instrumented bool   `json:"instrumented"`
	Framework    string `json:"framework,omitempty"`
}

// Summary counts the contract's sites (instrumented or not).
type Summary struct {
	TotalSites int `json:"total_sites"`
	High       int `json:"high"`
	Medium     int `json:"medium"`
	Low        int `json:"low"`
}

// Contract is a coverage contract file.
type Contract struct {
	ContractVersion string  `json:"contract_version"`
	GeneratedAt     string  `json:"generated_at"`
	GeneratedBy     string  `json:"generated_by"`
	ProjectRoot     string  `json:"project_root"`
	CallSites       []Site  `json:"call_sites"`
	Summary         Summary `json:"summary"`
	ContractHash    string  `json:"contract_hash"`
}

// CallsiteID is the first 12 hex characters of SHA-256 over "path:line",
// the id both the scanner and the runtime patches compute.
func CallsiteID(path string, line int) string {
	s := sha256.Sum256([]byte(path + ":" + strconv.Itoa(line)))
	return hex.EncodeToString(s[:])[:12]
}

// Hash is the contract_hash of a site list: lowercase hex SHA-256 of the
// canonical JSON of the list.
func Hash(sites []Site) string {
	if sites == nil {
		sites = []Site{}
	}
	b, err := canon.Marshal(sites)
	if err != nil {
		// Sites are plain strings, ints and bools; canon only fails on
		// invalid UTF-8, which the scanner never produces.
		panic(fmt.Sprintf("coverage: canonicalize call sites: %v", err))
	}
	return receipt.SHA256Hex(b)
}

// New builds a contract over sites (in scan order) with its summary and hash.
func New(projectRoot string, sites []Site, at time.Time) *Contract {
	if sites == nil {
		sites = []Site{}
	}
	c := &Contract{
		ContractVersion: Version,
		GeneratedAt:     receipt.Timestamp(at),
		GeneratedBy:     "assay-scan",
		ProjectRoot:     projectRoot,
		CallSites:       sites,
	}
	for _, s := range sites {
		c.Summary.TotalSites++
		switch s.Confidence {
		case "high":
			c.Summary.High++
		case "medium":
			c.Summary.Medium++
		case "low":
			c.Summary.Low++
		}
	}
	c.ContractHash = Hash(sites)
	return c
}

// Marshal renders the contract as the reference writes it: Python
// json.dumps(indent=2) (non-ASCII as \u escapes) plus a final newline.
func (c *Contract) Marshal() ([]byte, error) {
	b, err := pyjson.Indent(c)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Load reads and checks a contract file. A missing, unreadable or invalid
// file is bad input (exit 3); a contract whose stored contract_hash does not
// match its call sites has been altered (exit 2). A missing contract_hash is
// accepted, as the reference does.
func Load(path string) (*Contract, error) { return LoadWith(path, os.ReadFile) }

// LoadWith is Load reading the file with read (a reader confined to a
// root, for paths that come from outside).
func LoadWith(path string, read func(string) ([]byte, error)) (*Contract, error) {
	data, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, exit.Bad("write one with 'assay scan --emit-contract "+path+"'", "coverage contract not found: %s", path)
	}
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "cannot read coverage contract %s: %v", path, fsutil.Reason(err))
	}
	c, err := Parse(data)
	if err != nil {
		var e *exit.Error
		if errors.As(err, &e) {
			e.Msg = path + ": " + e.Msg
			return nil, e
		}
		return nil, err
	}
	return c, nil
}

// required are the site keys the reference indexes directly.
var required = []string{"callsite_id", "path", "line", "call", "confidence", "instrumented"}

// Parse decodes and checks contract bytes (see Load for the error codes).
// The hash is recomputed over call_sites exactly as stored, so extra keys a
// newer writer added are covered too.
func Parse(data []byte) (*Contract, error) {
	const fix = "regenerate it with 'assay scan --emit-contract FILE'"
	raw, err := canon.Decode(data)
	if err != nil {
		return nil, exit.Bad(fix, "invalid coverage contract: %v", err)
	}
	obj, ok := raw.(*canon.Object)
	if !ok {
		return nil, exit.Bad(fix, "invalid coverage contract: not a JSON object")
	}
	sitesRaw, ok := obj.Get("call_sites")
	if !ok {
		return nil, exit.Bad(fix, "invalid coverage contract: no call_sites")
	}
	list, ok := sitesRaw.([]any)
	if !ok {
		return nil, exit.Bad(fix, "invalid coverage contract: call_sites is not a list")
	}
	c := &Contract{CallSites: make([]Site, 0, len(list))}
	for i, item := range list {
		so, ok := item.(*canon.Object)
		if !ok {
			return nil, exit.Bad(fix, "invalid coverage contract: call_sites[%d] is not an object", i)
		}
		for _, k := range required {
			if _, ok := so.Get(k); !ok {
				return nil, exit.Bad(fix, "invalid coverage contract: call_sites[%d] has no %q", i, k)
			}
		}
		var s Site
		var bad string
		s.CallsiteID, ok = str(so, "callsite_id")
		if !ok {
			bad = "callsite_id"
		}
		if s.Path, ok = str(so, "path"); !ok {
			bad = "path"
		}
		if s.Call, ok = str(so, "call"); !ok {
			bad = "call"
		}
		if s.Confidence, ok = str(so, "confidence"); !ok {
			bad = "confidence"
		}
		if v, _ := so.Get("instrumented"); true {
			if s.Instrumented, ok = v.(bool); !ok {
				bad = "instrumented"
			}
		}
		if v, _ := so.Get("line"); true {
			n, ok := v.(canon.Number)
			line, err := strconv.Atoi(string(n))
			if !ok || err != nil {
				bad = "line"
			}
			s.Line = line
		}
		if v, ok := so.Get("framework"); ok {
			if s.Framework, ok = v.(string); !ok {
				bad = "framework"
			}
		}
		if bad != "" {
			return nil, exit.Bad(fix, "invalid coverage contract: call_sites[%d].%s has the wrong type", i, bad)
		}
		c.CallSites = append(c.CallSites, s)
	}
	c.ContractVersion, _ = str(obj, "contract_version")
	c.GeneratedAt, _ = str(obj, "generated_at")
	c.GeneratedBy, _ = str(obj, "generated_by")
	c.ProjectRoot, _ = str(obj, "project_root")
	if sv, ok := obj.Get("summary"); ok {
		if so, ok := sv.(*canon.Object); ok {
			c.Summary = Summary{TotalSites: num(so, "total_sites"), High: num(so, "high"), Medium: num(so, "medium"), Low: num(so, "low")}
		}
	}
	c.ContractHash, _ = str(obj, "contract_hash")
	cb, err := canon.Marshal(sitesRaw)
	if err != nil {
		return nil, exit.Bad(fix, "invalid coverage contract: %v", err)
	}
	computed := receipt.SHA256Hex(cb)
	if c.ContractHash != "" && c.ContractHash != computed {
		return nil, exit.New(exit.Tampered, "the call sites no longer match the contract_hash; regenerate the contract from a scan",
			"coverage contract tampered: stored hash %s... != computed %s...", short(c.ContractHash), computed[:16])
	}
	return c, nil
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

func str(o *canon.Object, k string) (string, bool) {
	v, _ := o.Get(k)
	s, ok := v.(string)
	return s, ok
}

func num(o *canon.Object, k string) int {
	v, _ := o.Get(k)
	n, _ := v.(canon.Number)
	i, _ := strconv.Atoi(string(n))
	return i
}

// IDs returns the contract's callsite ids, duplicates collapsed, sorted.
func (c *Contract) IDs() []string {
	set := map[string]bool{}
	for _, s := range c.CallSites {
		set[s.CallsiteID] = true
	}
	return sortedKeys(set)
}

// Locate names each id as "id (path:line)" when the contract has that site,
// so a coverage failure says which code lacks receipts rather than only an
// opaque hash; ids the contract does not know are returned unchanged.
func (c *Contract) Locate(ids []string) []string {
	where := map[string]string{}
	for _, s := range c.CallSites {
		if _, ok := where[s.CallsiteID]; !ok && s.Path != "" {
			where[s.CallsiteID] = s.Path + ":" + strconv.Itoa(s.Line)
		}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if w, ok := where[id]; ok {
			out[i] = id + " (" + w + ")"
		}
	}
	return out
}

// Report is the outcome of measuring receipts against a contract, with the
// JSON names verify-pack prints under "coverage" (pack-format.md §5.5).
type Report struct {
	CoveredIDs   []string `json:"covered_ids"`
	UncoveredIDs []string `json:"uncovered_ids"`
	ExtraIDs     []string `json:"extra_ids"`
	CoveragePct  float64  `json:"coverage_pct"` // a fraction in [0,1], as the reference names it
	CoveredCount int      `json:"covered_count"`
	TotalCount   int      `json:"total_count"`
	// Fraction is CoveragePct, named for what it is.
	Fraction float64 `json:"-"`
	// ByLanguage splits the counts per source language. It is set only
	// when the contract has TS/JS sites or more than one language, so a
	// Python-only (reference) or Go-only report is unchanged.
	ByLanguage []LangCoverage `json:"by_language,omitempty"`
	// Unattributed counts the model calls that could not count toward
	// any site, and Note says why and what to do (both absent when every
	// model call carried a callsite_id).
	Unattributed *Unattributed `json:"unattributed,omitempty"`
	Note         string        `json:"note,omitempty"`
}

// gatewaySource is the integration_source of receipts the gateway records
// (capture.SourceGateway; a test holds the two equal).
const gatewaySource = "assay.gateway"

// Unattributed counts model_call receipts without a callsite_id: coverage
// is measured by call site, so these count toward none. The gateway
// records them (it sees the request, not the calling line), unless the
// caller sends the X-Assay-Callsite header.
type Unattributed struct {
	ModelCalls int `json:"model_calls"`
	// Gateway of them came through the gateway (0 when not known).
	Gateway int `json:"from_gateway"`
}

// Add counts r when it is a model call without a callsite_id.
func (u *Unattributed) Add(r *receipt.Receipt) {
	if t, _ := r.Get("type"); t != "model_call" {
		return
	}
	if v, ok := r.Get("callsite_id"); ok {
		if s, _ := v.(string); s != "" {
			return
		}
	}
	u.ModelCalls++
	if v, _ := r.Get("integration_source"); v == gatewaySource {
		u.Gateway++
	}
}

// Note explains unattributed model calls to a user, "" when there are none.
func (u Unattributed) Note() string {
	switch {
	case u.ModelCalls == 0:
		return ""
	case u.Gateway == u.ModelCalls:
		return fmt.Sprintf("%d model call receipt(s) came through the gateway without a call site; send the X-Assay-Callsite header or run 'assay patch' for per-site coverage", u.Gateway)
	case u.Gateway > 0:
		return fmt.Sprintf("%d model call receipt(s) have no call site (%d through the gateway); send the X-Assay-Callsite header or run 'assay patch' for per-site coverage", u.ModelCalls, u.Gateway)
	}
	return fmt.Sprintf("%d model call receipt(s) have no call site (the gateway, or a capture that cannot see the caller); run 'assay patch' or send the X-Assay-Callsite header for per-site coverage", u.ModelCalls)
}

// Explain records the unattributed model calls on the report.
func (r *Report) Explain(u Unattributed) {
	if u.ModelCalls == 0 {
		return
	}
	r.Unattributed, r.Note = &u, u.Note()
}

// LangCoverage is one language's share of a coverage report.
type LangCoverage struct {
	Language string `json:"language"`
	Covered  int    `json:"covered"`
	Total    int    `json:"total"`
}

// LanguageOf names a call site's language from its path: python, go,
// typescript (TS and JS alike) or other.
func LanguageOf(path string) string {
	ext := path[strings.LastIndexByte(path, '.')+1:]
	switch ext {
	case "py":
		return "python"
	case "go":
		return "go"
	case "ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs":
		return "typescript"
	}
	return "other"
}

// Measure compares the contract's ids with the callsite ids seen at run
// time, with set semantics: covered = C∩R, uncovered = C−R, extra = R−C,
// fraction = |covered|/|C| (1.0 for an empty contract). Empty ids are
// ignored. Every list is sorted.
func Measure(c *Contract, callsiteIDs []string) Report {
	want := map[string]bool{}
	for _, s := range c.CallSites {
		want[s.CallsiteID] = true
	}
	seen := map[string]bool{}
	for _, id := range callsiteIDs {
		if id != "" {
			seen[id] = true
		}
	}
	covered, uncovered, extra := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for id := range want {
		if seen[id] {
			covered[id] = true
		} else {
			uncovered[id] = true
		}
	}
	for id := range seen {
		if !want[id] {
			extra[id] = true
		}
	}
	r := Report{
		CoveredIDs:   sortedKeys(covered),
		UncoveredIDs: sortedKeys(uncovered),
		ExtraIDs:     sortedKeys(extra),
		CoveredCount: len(covered),
		TotalCount:   len(want),
		Fraction:     1.0,
	}
	if len(want) > 0 {
		r.Fraction = float64(len(covered)) / float64(len(want))
	}
	r.CoveragePct = r.Fraction
	langOf := map[string]string{}
	for _, s := range c.CallSites {
		langOf[s.CallsiteID] = LanguageOf(s.Path)
	}
	per := map[string]*LangCoverage{}
	for id := range want {
		l := langOf[id]
		if per[l] == nil {
			per[l] = &LangCoverage{Language: l}
		}
		per[l].Total++
		if covered[id] {
			per[l].Covered++
		}
	}
	if per["typescript"] != nil || len(per) > 1 {
		for _, l := range []string{"python", "go", "typescript", "other"} {
			if per[l] != nil {
				r.ByLanguage = append(r.ByLanguage, *per[l])
			}
		}
	}
	return r
}

// ReceiptIDs collects the non-empty top-level callsite_id strings of
// receipts of any type.
func ReceiptIDs(rs []*receipt.Receipt) []string {
	var ids []string
	for _, r := range rs {
		if v, ok := r.Get("callsite_id"); ok {
			if s, ok := v.(string); ok && s != "" {
				ids = append(ids, s)
			}
		}
	}
	return ids
}

// Passes reports whether the measured fraction meets min.
func (r Report) Passes(min float64) bool { return r.Fraction >= min }

// Percent formats a fraction like Python's "{:.0%}" (the reference's
// texts: "50%", "67%").
func Percent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 0, 64) + "%"
}

// Expected is the coverage_contract claim's expected text.
func Expected(min float64) string { return ">= " + Percent(min) + " call site coverage" }

// Actual is the coverage_contract claim's actual text, e.g. "50% (1/2)".
func (r Report) Actual() string {
	s := fmt.Sprintf("%s (%d/%d)", Percent(r.Fraction), r.CoveredCount, r.TotalCount)
	if r.Note != "" && r.CoveredCount < r.TotalCount {
		s += "; " + r.Note
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
