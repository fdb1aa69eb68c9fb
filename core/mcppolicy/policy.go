// Package mcppolicy loads and evaluates the MCP proxy's policy file,
// assay.mcp-policy.yaml (runtime.md §7.3, DECISIONS 19). It has no CLI or
// proxy types: Load gives a Policy, NewEvaluator a per-session Evaluator,
// and Evaluate one Decision per tools/call. What to do with a deny (refuse
// in enforce mode, forward and record in audit mode) is the proxy's call;
// the Decision is the same in both modes.
//
// # The file
//
// A YAML mapping with these keys; any other key, at any depth, is refused
// with its path and line, because a misspelt rule would otherwise silently
// switch enforcement off. A key with an empty value (`deny:`) is the same
// as leaving it out.
//
//	version            "1" (absent = "1"; anything else is refused)
//	server_id          string; names the server in receipts
//	mode               audit | enforce (absent = audit)
//	store_args         bool (absent = nil: the proxy's flag decides)
//	store_results      bool (likewise)
//	auto_pack          bool (likewise)
//	audit_dir          string (likewise)
//	tools.default      allow | deny (absent = allow)
//	tools.deny         list of globs
//	tools.allow        list of globs (only consulted when default is deny)
//	tools.constraints.<exact tool name>.max_calls      whole number >= 1
//	tools.constraints.<exact tool name>.deny_patterns  list of regexps
//	budget.max_tool_calls     whole number >= 1 (absent = unlimited)
//	budget.max_wall_time_sec  whole number >= 1 (absent = unlimited)
//
// Globs have Python fnmatch.fnmatchcase semantics: case-sensitive, `*` any
// run of characters ('/' included), `?` one character, `[seq]` one of,
// `[!seq]` none of, no escape character. Two things fnmatch accepts are
// refused because they are almost certainly mistakes: an unclosed '[' (fnmatch
// would match a literal '[') and a set that matches nothing such as [z-a].
// Constraint keys are exact tool names, so a key holding *, ? or [ is
// refused rather than silently never matching.
//
// deny_patterns are case-insensitive Go (RE2) regexps, searched anywhere in
// the canonical JSON of the call's arguments (core/canon: keys sorted, no
// spaces, e.g. {"action":"delete","path":"/x"}; inside strings only quotes,
// backslashes and control characters are escaped), not in a Python repr as
// the reference did (runtime.md §10 item 15). RE2 has no lookaround or
// backreferences; such patterns are refused at load time.
//
// Limits are whole numbers from 1 to 1000000000; zero, negative, fractional
// or quoted numbers are refused. YAML aliases (*name, <<: merges) and
// files with more than one document are refused too.
//
// # Evaluation order
//
// The first rule that denies decides (Decision.Reason, Decision.Rule):
//
//  1. a tools.deny glob matches the name: deny_list, tools.deny[i]
//  2. tools.default is deny and no tools.allow glob matches: not_in_allow, tools.default
//  3. the tool's max_calls allowed calls were already made: tool_budget_exceeded
//  4. one of the tool's deny_patterns matches the arguments: argument_denied
//  5. the session's max_tool_calls allowed calls were already made: session_budget_exceeded
//  6. now - start >= max_wall_time_sec: session_time_exceeded (the reference only parsed it)
//
// Otherwise the call is allowed. Counters (per tool and per session) count
// allowed calls only, as the reference does, so in audit mode a call the
// policy would deny does not use up a budget.
package mcppolicy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"

	"github.com/assay-dev/assay/core/exit"
)

// DefaultFile is the policy file name `mcp policy init` writes.
const DefaultFile = "assay.mcp-policy.yaml"

// Modes and defaults.
const (
	ModeAudit   = "audit"
	ModeEnforce = "enforce"
	Allow       = "allow"
	Deny        = "deny"
)

// Decision reasons, in evaluation order.
const (
	ReasonDenyList        = "deny_list"
	ReasonNotInAllow      = "not_in_allow"
	ReasonToolBudget      = "tool_budget_exceeded"
	ReasonArgumentDenied  = "argument_denied"
	ReasonSessionBudget   = "session_budget_exceeded"
	ReasonSessionTimedOut = "session_time_exceeded"
)

// maxFileSize bounds what Load reads: a policy is a page of YAML.
const maxFileSize = 1 << 20

// maxLimit bounds every limit, so wall-time arithmetic cannot overflow.
const maxLimit = 1_000_000_000

// Policy is a loaded, validated policy file.
type Policy struct {
	Path     string // as given to Load or Parse
	Hash     string // "sha256:" + hex of the raw file bytes (receipts' policy_hash)
	Version  string
	ServerID string
	Mode     string // ModeAudit or ModeEnforce

	// nil when the key is absent, so the proxy's flags can decide.
	StoreArgs, StoreResults, AutoPack *bool
	AuditDir                          string

	Tools  ToolRules
	Budget Budget

	deny, allow []*regexp.Regexp            // compiled Tools.Deny, Tools.Allow
	patterns    map[string][]*regexp.Regexp // compiled Constraints[tool].DenyPatterns
}

// ToolRules is the tools section.
type ToolRules struct {
	Default     string // Allow or Deny
	Deny, Allow []string
	Constraints map[string]Constraint // keyed by exact tool name
}

// Constraint limits one tool.
type Constraint struct {
	MaxCalls     int // 0 = unlimited
	DenyPatterns []string
}

// Budget limits the session.
type Budget struct {
	MaxToolCalls   int // 0 = unlimited
	MaxWallTimeSec int // 0 = unlimited
}

// Enforce reports whether denied calls are refused rather than forwarded.
func (p *Policy) Enforce() bool { return p.Mode == ModeEnforce }

// Load reads and parses the policy file at path. Every error is an
// *exit.Error with exit code 3 naming the file, the line when known, the
// problem and the fix.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, exit.Bad("check the path, or write one with 'assay mcp policy init'", "policy file %s does not exist", path)
		}
		return nil, exit.Bad("check the path and its permissions", "cannot read policy file %s: %v", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, exit.Bad("name the policy file, e.g. "+DefaultFile, "policy %s is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "cannot read policy file %s: %v", path, err)
	}
	return Parse(data, path)
}

// Parse validates a policy document; path only labels errors and the
// Summary.
func Parse(data []byte, path string) (p *Policy, err error) {
	if len(data) > maxFileSize {
		return nil, exit.Bad("a policy is a page of YAML; check you named the right file", "policy file %s is larger than 1 MiB", path)
	}
	// The YAML library is not ours; a panic in it must still be one line.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, exit.Bad("check the file's YAML syntax", "%s: cannot parse the policy: %v", path, r)
		}
	}()
	sum := sha256.Sum256(data)
	p = &Policy{
		Path: path, Hash: "sha256:" + hex.EncodeToString(sum[:]),
		Version: "1", Mode: ModeAudit,
		Tools:    ToolRules{Default: Allow, Constraints: map[string]Constraint{}},
		patterns: map[string][]*regexp.Regexp{},
	}
	ps := &parser{path: path, p: p}
	if err := ps.parse(data); err != nil {
		return nil, err
	}
	return p, nil
}

// Summary is what `assay mcp policy validate` reports.
type Summary struct {
	File     string `json:"file" jsonschema:"description=The policy file as given"`
	Hash     string `json:"hash" jsonschema:"description=sha256: + hex of the file's bytes (receipts' policy_hash)"`
	Version  string `json:"version"`
	ServerID string `json:"server_id"`
	Mode     string `json:"mode" jsonschema:"enum=audit,enum=enforce"`
	Default  string `json:"default" jsonschema:"enum=allow,enum=deny"`
	// Counts of tools.deny globs, tools.allow globs and constrained tools.
	DenyRules   int           `json:"deny_rules"`
	AllowRules  int           `json:"allow_rules"`
	Constraints int           `json:"constraints"`
	Budget      BudgetSummary `json:"budget"`
	// Null when the file leaves the proxy's flag in charge.
	StoreArgs    *bool  `json:"store_args"`
	StoreResults *bool  `json:"store_results"`
	AutoPack     *bool  `json:"auto_pack"`
	AuditDir     string `json:"audit_dir,omitempty"`
	// Rules that can never decide anything, in words (empty when none).
	Warnings []string `json:"warnings"`
}

// BudgetSummary is the session budget; 0 means unlimited.
type BudgetSummary struct {
	MaxToolCalls   int `json:"max_tool_calls" jsonschema:"minimum=0,description=0 = unlimited"`
	MaxWallTimeSec int `json:"max_wall_time_sec" jsonschema:"minimum=0,description=0 = unlimited"`
}

// Summary describes the policy in counts.
func (p *Policy) Summary() Summary {
	return Summary{
		File: p.Path, Hash: p.Hash, Version: p.Version, ServerID: p.ServerID,
		Mode: p.Mode, Default: p.Tools.Default,
		DenyRules: len(p.Tools.Deny), AllowRules: len(p.Tools.Allow), Constraints: len(p.Tools.Constraints),
		Budget:    BudgetSummary{MaxToolCalls: p.Budget.MaxToolCalls, MaxWallTimeSec: p.Budget.MaxWallTimeSec},
		StoreArgs: p.StoreArgs, StoreResults: p.StoreResults, AutoPack: p.AutoPack, AuditDir: p.AuditDir,
		Warnings: p.warnings(),
	}
}

// warnings lists rules that can never decide: legal, but rarely meant.
func (p *Policy) warnings() []string {
	w := []string{}
	if len(p.Tools.Allow) > 0 && p.Tools.Default == Allow {
		w = append(w, "tools.allow is not consulted while tools.default is allow; set tools.default: deny to allow only what it lists")
	}
	names := make([]string, 0, len(p.Tools.Constraints))
	for name := range p.Tools.Constraints {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := joinPath("tools.constraints", name)
		for i, re := range p.deny {
			if re.MatchString(name) {
				w = append(w, fmt.Sprintf("%s never applies: tools.deny[%d] %q denies the tool first", path, i, p.Tools.Deny[i]))
				break
			}
		}
		if p.Tools.Default == Deny && !matchAny(p.allow, name) {
			w = append(w, fmt.Sprintf("%s never applies: no tools.allow glob lets the tool run", path))
		}
	}
	return w
}

// String is a one-line description for logs.
func (p *Policy) String() string {
	return fmt.Sprintf("%s (%s, default %s, %d deny, %d allow, %d constraints)", p.Path, p.Mode, p.Tools.Default, len(p.Tools.Deny), len(p.Tools.Allow), len(p.Tools.Constraints))
}
