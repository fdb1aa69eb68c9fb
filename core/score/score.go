// Package score computes the reference's Evidence Readiness Score of a
// repository (runtime.md §8, `assay score`, score version 2.0.0) and the
// gate CI runs on it (`assay gate check`, `gate save-baseline`).
//
// The components and weights are the reference's, so a team moving over
// gets the same grade:
//
//	coverage  39  instrumented ÷ total call sites (core/scan); half credit when there are none
//	lockfile  17  assay.lock present and valid (lock check finds nothing); 45% when present but stale or invalid
//	ci_gate   22  the workflows run `assay run`, verify (`assay verify-pack` or the verify action) and pin a lock: full;
//	              run + verify: 70%; verify and any assay mention: 50%; any assay mention: 25%
//	receipts  22  all or nothing: any proof pack with receipt_pack.jsonl, or an MCP session file
//	key_setup  0  reported only (it depends on the operator's machine)
//
// Grades: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F. With no receipts the
// grade is capped at D and the score clamped to 69.9 (CAP_NO_RECEIPTS_MAX_D).
//
// Where we differ: a lock is "stale" when `lock check` reports a problem
// (drift, missing fields); its assay_version fields name the reference's
// line and are not compared with ours (DECISIONS 15). Packs are found by
// their manifest (core/packs) as well as by the reference's
// proof_pack_*/receipt_pack.jsonl pattern.
//
// Everything is read through an os.Root on the repository: a link out of
// it is never followed. Compute never prints.
package score

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/packs"
	"github.com/assay-dev/assay/core/scan"
)

// Version is the scoring model's version (the reference's 2.0.0).
const Version = "2.0.0"

// Component names, in the order they are reported.
const (
	Coverage = "coverage"
	Lockfile = "lockfile"
	CIGate   = "ci_gate"
	Receipts = "receipts"
	KeySetup = "key_setup"
)

// Weights are the reference's; they add up to 100.
var Weights = map[string]float64{Coverage: 39, Lockfile: 17, CIGate: 22, Receipts: 22, KeySetup: 0}

// order is the report order of the components.
var order = []string{Coverage, Lockfile, CIGate, Receipts, KeySetup}

// Partial credits (fractions of a component's weight).
const (
	coverageNoSites = 0.5
	lockStale       = 0.45
	ciRunVerify     = 0.7
	ciVerifyMention = 0.5
	ciMention       = 0.25
)

// CapNoReceipts is the cap applied when the repository holds no receipts.
const CapNoReceipts = "CAP_NO_RECEIPTS_MAX_D"

// capNoReceiptsScore is the highest score a repository without receipts gets.
const capNoReceiptsScore = 69.9

// maxFile bounds each workflow or lock file read.
const maxFile = 1 << 20

// Grade thresholds, highest first.
var grades = []struct {
	Grade string
	Min   float64
	Desc  string
}{
	{"A", 90, "audit-ready: evidence is captured, locked, gated in CI and on record"},
	{"B", 80, "strong: most of the evidence loop is in place"},
	{"C", 70, "developing: evidence exists, parts of the loop are missing"},
	{"D", 60, "basic: some pieces are set up, the loop is not closed"},
	{"F", 0, "not ready: little or no evidence infrastructure yet"},
}

// Disclaimer is printed with every score.
const Disclaimer = "The score measures evidence readiness (instrumentation, lock, CI gate, receipts); it says nothing about whether the AI system itself is correct or safe."

// Options tune Compute.
type Options struct {
	// Home is the assay home (keystore) for the key_setup component; ""
	// reports the key as not checked.
	Home string
	// Scan tunes the call-site scan (its Root is set by Compute).
	Scan scan.Options
}

// Component is one line of the breakdown.
type Component struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	// Fraction is the share of the weight earned, 0..1.
	Fraction float64 `json:"fraction"`
	Points   float64 `json:"points"`
	// Status is full, partial or none.
	Status string `json:"status" jsonschema:"enum=full,enum=partial,enum=none"`
	Detail string `json:"detail"`
	// Action is what raises it, when something can.
	Action *Action `json:"action,omitempty"`
}

// Action is one next step and what it is estimated to add.
type Action struct {
	Component string `json:"component"`
	Command   string `json:"command"`
	Why       string `json:"why"`
	// Points is the estimated gain in score points (before caps).
	Points float64 `json:"points"`
}

// Cap is a limit applied to the raw score and grade.
type Cap struct {
	ID       string  `json:"id"`
	Reason   string  `json:"reason"`
	MaxGrade string  `json:"max_grade"`
	MaxScore float64 `json:"max_score"`
}

// Path is the fewest actions that reach the next grade.
type Path struct {
	From      string   `json:"from_grade"`
	To        string   `json:"to_grade" jsonschema:"enum=A,enum=B,enum=C,enum=D,enum="`
	Score     float64  `json:"projected_score"`
	Actions   []Action `json:"actions"`
	Reachable bool     `json:"reachable"`
}

// Facts are the raw observations the components are computed from.
type Facts struct {
	SitesTotal   int `json:"sites_total"`
	Instrumented int `json:"instrumented"`
	FilesScanned int `json:"files_scanned"`

	LockPath    string   `json:"lock_path"`
	LockPresent bool     `json:"lock_present"`
	LockValid   bool     `json:"lock_valid"`
	LockIssues  []string `json:"lock_issues"`

	Workflows     []string `json:"workflows"`
	CIRun         bool     `json:"ci_has_run"`
	CIVerify      bool     `json:"ci_has_verify"`
	CILock        bool     `json:"ci_has_lock"`
	CIMentions    bool     `json:"ci_mentions_assay"`
	Packs         []string `json:"packs"`
	MCPSessions   []string `json:"mcp_sessions"`
	ActiveSigner  string   `json:"active_signer"`
	SignerPresent bool     `json:"signer_present"`
}

// Result is the score of one repository (the JSON `assay score --json`
// prints).
type Result struct {
	Command          string      `json:"command"`
	Status           string      `json:"status"`
	Repo             string      `json:"repo"`
	ScoreVersion     string      `json:"score_version"`
	Score            float64     `json:"score"`
	Grade            string      `json:"grade" jsonschema:"enum=A,enum=B,enum=C,enum=D,enum=F"`
	GradeDescription string      `json:"grade_description"`
	RawScore         float64     `json:"raw_score"`
	RawGrade         string      `json:"raw_grade" jsonschema:"enum=A,enum=B,enum=C,enum=D,enum=F"`
	Breakdown        []Component `json:"breakdown"`
	Caps             []Cap       `json:"caps_applied"`
	NextActions      []string    `json:"next_actions"`
	NextActionDetail []Action    `json:"next_actions_detail"`
	// FastestPath is empty (to_grade "", not reachable) at grade A.
	FastestPath Path   `json:"fastest_path"`
	Facts       Facts  `json:"facts"`
	Disclaimer  string `json:"disclaimer"`
}

// Component returns the named component of the breakdown.
func (r *Result) Component(name string) (Component, bool) {
	for _, c := range r.Breakdown {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// GradeOf is the grade of a score.
func GradeOf(score float64) string {
	for _, g := range grades {
		if score >= g.Min {
			return g.Grade
		}
	}
	return "F"
}

// Describe is the tier description of a grade.
func Describe(grade string) string {
	for _, g := range grades {
		if g.Grade == grade {
			return g.Desc
		}
	}
	return ""
}

// minOf is the lowest score of a grade.
func minOf(grade string) float64 {
	for _, g := range grades {
		if g.Grade == grade {
			return g.Min
		}
	}
	return 0
}

// next is the grade above g ("" for A).
func next(g string) string {
	for i, x := range grades {
		if x.Grade == g && i > 0 {
			return grades[i-1].Grade
		}
	}
	return ""
}

// round1 rounds to one decimal, as the score is shown.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// Compute scores the repository at path.
func Compute(path string, o Options) (*Result, error) {
	abs, err := checkDir(path)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, exit.Bad("give a readable directory", "cannot open %s: %v", path, fsutil.Reason(err))
	}
	defer root.Close()

	var f Facts
	so := o.Scan
	so.Root = root
	sr, err := scan.Scan(abs, so)
	if err != nil {
		return nil, err
	}
	sum := sr.Summary()
	f.SitesTotal, f.Instrumented, f.FilesScanned = sum.SitesTotal, sum.Instrumented, sr.Files
	readLock(root, &f)
	readWorkflows(root, &f)
	if err := findReceipts(root, abs, &f); err != nil {
		return nil, err
	}
	if o.Home != "" {
		ks := keys.Open(o.Home)
		f.ActiveSigner = ks.Active()
		f.SignerPresent = f.ActiveSigner != "" && ks.Exists(f.ActiveSigner)
	}
	return FromFacts(abs, f), nil
}

// checkDir resolves path to an absolute directory, or bad input.
func checkDir(path string) (string, error) {
	if path == "" {
		path = "."
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", exit.Bad("give a directory path", "cannot resolve %s: %v", path, err)
	}
	st, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", exit.Bad("give the repository directory, e.g. 'assay score .'", "directory not found: %s", path)
	}
	if err != nil {
		return "", exit.Bad("give a readable directory", "cannot read %s: %v", path, fsutil.Reason(err))
	}
	if !st.IsDir() {
		return "", exit.Bad("give the repository directory, e.g. 'assay score .'", "%s is not a directory", path)
	}
	return abs, nil
}

// readLock looks at assay.lock in the repository root.
func readLock(root *os.Root, f *Facts) {
	f.LockPath = lock.DefaultPath
	f.LockIssues = []string{}
	data, err := fsutil.ReadFileIn(root, lock.DefaultPath, maxFile)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	f.LockPresent = true
	if err != nil {
		f.LockIssues = append(f.LockIssues, "cannot read it: "+fsutil.Reason(err).Error())
		return
	}
	l, err := lock.Parse(data)
	if err != nil {
		f.LockIssues = append(f.LockIssues, err.Error())
		return
	}
	f.LockIssues = append(f.LockIssues, lock.Validate(l)...)
	f.LockValid = len(f.LockIssues) == 0
}

// workflowDirs hold the CI workflows the ci_gate component reads.
var workflowDirs = []string{".github/workflows"}

// readWorkflows reads the GitHub workflows and records what they do, across
// all files together.
func readWorkflows(root *os.Root, f *Facts) {
	f.Workflows = []string{}
	var all bytes.Buffer
	for _, dir := range workflowDirs {
		entries, err := fs.ReadDir(root.FS(), dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
				continue
			}
			rel := dir + "/" + name
			data, err := fsutil.ReadFileIn(root, filepath.FromSlash(rel), maxFile)
			if err != nil {
				continue
			}
			f.Workflows = append(f.Workflows, rel)
			all.Write(data)
			all.WriteByte('\n')
		}
	}
	text := all.String()
	f.CIRun = strings.Contains(text, "assay run")
	f.CIVerify = strings.Contains(text, "assay verify-pack") || strings.Contains(text, "assay-verify-action")
	f.CILock = strings.Contains(text, "--lock ") || strings.Contains(text, "lock-file")
	f.CIMentions = strings.Contains(strings.ToLower(text), "assay")
}

// sessionsDir is where the MCP proxy writes its session files (runtime.md §7.2).
const sessionsDir = ".assay/mcp/receipts"

// findReceipts lists the packs holding a receipt file and the MCP session
// files under the repository.
func findReceipts(root *os.Root, abs string, f *Facts) error {
	f.Packs, f.MCPSessions = []string{}, []string{}
	seen := map[string]bool{}
	add := func(rel string) {
		rel = filepath.ToSlash(rel)
		if !seen[rel] {
			seen[rel] = true
			f.Packs = append(f.Packs, rel)
		}
	}
	found, err := packs.Find(abs)
	if err != nil {
		return err
	}
	for _, p := range found {
		rel, err := filepath.Rel(abs, p.Path)
		if err != nil {
			continue
		}
		if isRegular(root, filepath.Join(rel, "receipt_pack.jsonl")) {
			add(rel)
		}
	}
	// The reference's own pattern: proof_pack_*/receipt_pack.jsonl.
	if entries, err := fs.ReadDir(root.FS(), "."); err == nil {
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), "proof_pack_") && isRegular(root, filepath.Join(e.Name(), "receipt_pack.jsonl")) {
				add(e.Name())
			}
		}
	}
	if entries, err := fs.ReadDir(root.FS(), sessionsDir); err == nil {
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && strings.HasPrefix(n, "session_") && strings.HasSuffix(n, ".jsonl") {
				f.MCPSessions = append(f.MCPSessions, sessionsDir+"/"+n)
			}
		}
	}
	sort.Strings(f.Packs)
	return nil
}

// isRegular reports whether name inside root is a regular file (a link is
// not followed).
func isRegular(root *os.Root, name string) bool {
	st, err := root.Lstat(name)
	return err == nil && st.Mode().IsRegular()
}

// FromFacts computes the score from observed facts (repo only labels it).
func FromFacts(repo string, f Facts) *Result {
	r := &Result{Command: "score", Status: "ok", Repo: repo, ScoreVersion: Version, Facts: f, Caps: []Cap{}, Disclaimer: Disclaimer}
	for _, name := range order {
		r.Breakdown = append(r.Breakdown, component(name, f))
	}
	var raw float64
	for _, c := range r.Breakdown {
		raw += c.Points
	}
	r.RawScore = round1(raw)
	r.RawGrade = GradeOf(r.RawScore)
	r.Score, r.Grade = r.RawScore, r.RawGrade
	hasReceipts := len(f.Packs) > 0 || len(f.MCPSessions) > 0
	if !hasReceipts {
		c := Cap{ID: CapNoReceipts, Reason: "no receipts in the repository: without evidence the grade is at most D", MaxGrade: "D", MaxScore: capNoReceiptsScore}
		r.Caps = append(r.Caps, c)
		r.Score = math.Min(r.Score, c.MaxScore)
		r.Grade = GradeOf(r.Score)
	}
	r.GradeDescription = Describe(r.Grade)
	r.NextActions, r.NextActionDetail = []string{}, []Action{}
	for _, c := range r.Breakdown {
		if c.Action != nil && c.Action.Points > 0 {
			r.NextActionDetail = append(r.NextActionDetail, *c.Action)
		}
	}
	sort.SliceStable(r.NextActionDetail, func(i, j int) bool { return r.NextActionDetail[i].Points > r.NextActionDetail[j].Points })
	for _, a := range r.NextActionDetail {
		r.NextActions = append(r.NextActions, fmt.Sprintf("%s (+%.1f pts est.): %s", a.Command, a.Points, a.Why))
	}
	r.FastestPath = fastest(r, hasReceipts)
	return r
}

// component computes one line of the breakdown.
func component(name string, f Facts) Component {
	c := Component{Name: name, Weight: Weights[name]}
	var act *Action
	switch name {
	case Coverage:
		switch {
		case f.SitesTotal == 0:
			c.Fraction = coverageNoSites
			c.Detail = "no LLM call sites found (half credit)"
		default:
			c.Fraction = float64(f.Instrumented) / float64(f.SitesTotal)
			c.Detail = fmt.Sprintf("%d of %d call sites instrumented", f.Instrumented, f.SitesTotal)
			if f.Instrumented < f.SitesTotal {
				act = &Action{Command: "assay patch .", Why: "instrument the uninstrumented call sites (see 'assay scan .')"}
			}
		}
	case Lockfile:
		switch {
		case f.LockValid:
			c.Fraction = 1
			c.Detail = f.LockPath + " present and valid"
		case f.LockPresent:
			c.Fraction = lockStale
			c.Detail = f.LockPath + " present but stale or invalid: " + firstOr(f.LockIssues, "unknown problem")
			act = &Action{Command: "assay lock write --cards receipt_completeness --force", Why: "rewrite the lock ('assay lock check' lists its problems)"}
		default:
			c.Detail = "no " + f.LockPath
			act = &Action{Command: "assay lock write --cards receipt_completeness", Why: "pin the run cards and the signer"}
		}
	case CIGate:
		switch {
		case f.CIRun && f.CIVerify && f.CILock:
			c.Fraction = 1
			c.Detail = "CI runs assay, verifies the pack and checks it against the lock"
		case f.CIRun && f.CIVerify:
			c.Fraction = ciRunVerify
			c.Detail = "CI runs assay and verifies the pack, without a lock"
		case f.CIVerify && f.CIMentions:
			c.Fraction = ciVerifyMention
			c.Detail = "CI verifies a pack but does not produce one with 'assay run'"
		case f.CIMentions:
			c.Fraction = ciMention
			c.Detail = "CI mentions assay but neither runs nor verifies"
		case len(f.Workflows) == 0:
			c.Detail = "no CI workflows in .github/workflows"
		default:
			c.Detail = "no CI workflow uses assay"
		}
		if c.Fraction < 1 {
			cmd := "assay ci init github"
			if len(f.Workflows) > 0 && f.CIMentions {
				cmd += " --force"
			}
			act = &Action{Command: cmd, Why: "generate a workflow that runs, verifies against the lock and gates"}
		}
	case Receipts:
		switch {
		case len(f.Packs) > 0 || len(f.MCPSessions) > 0:
			c.Fraction = 1
			c.Detail = fmt.Sprintf("%d proof pack(s), %d MCP session file(s)", len(f.Packs), len(f.MCPSessions))
		default:
			c.Detail = "no proof pack or MCP session file in the repository"
			act = &Action{Command: "assay run -c receipt_completeness -- python3 app.py", Why: "record a run and build its proof pack (name your own program)"}
		}
	case KeySetup:
		switch {
		case f.SignerPresent:
			c.Fraction = 1
			c.Detail = "active signer " + f.ActiveSigner + " (weight 0: depends on this machine)"
		case f.ActiveSigner != "":
			c.Detail = "active signer " + f.ActiveSigner + " has no key here (weight 0: depends on this machine)"
		default:
			c.Detail = "no active signer on this machine (weight 0; 'assay key generate' makes one)"
		}
	}
	c.Points = round1(c.Weight * c.Fraction)
	switch {
	case c.Fraction >= 1:
		c.Status = "full"
	case c.Fraction > 0:
		c.Status = "partial"
	default:
		c.Status = "none"
	}
	if act != nil {
		act.Component = name
		act.Points = round1(c.Weight - c.Weight*c.Fraction)
		c.Action = act
	}
	return c
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// fastest finds the fewest actions (ties: the most points) that reach the
// next grade, taking the no-receipts cap into account.
func fastest(r *Result, hasReceipts bool) Path {
	to := next(r.Grade)
	if to == "" {
		return Path{From: r.Grade, Actions: []Action{}, Score: r.Score}
	}
	target := minOf(to)
	acts := r.NextActionDetail
	best := Path{From: r.Grade, To: to, Actions: []Action{}, Score: r.Score}
	bestN := -1
	for mask := 1; mask < 1<<len(acts); mask++ {
		var chosen []Action
		s := r.RawScore
		receipts := hasReceipts
		for i, a := range acts {
			if mask&(1<<i) != 0 {
				chosen = append(chosen, a)
				s += a.Points
				receipts = receipts || a.Component == Receipts
			}
		}
		s = round1(s)
		if !receipts {
			s = math.Min(s, capNoReceiptsScore)
		}
		if s < target {
			continue
		}
		if bestN < 0 || len(chosen) < bestN || (len(chosen) == bestN && s > best.Score) {
			bestN = len(chosen)
			best = Path{From: r.Grade, To: to, Actions: chosen, Score: s, Reachable: true}
		}
	}
	return best
}
