package mcppolicy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src), "p.yaml")
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return p
}

func TestParseFull(t *testing.T) {
	t.Parallel()
	src := `version: "1"
server_id: fs-server
mode: enforce
store_args: true
store_results: false
auto_pack: false
audit_dir: out/mcp
tools:
  default: deny
  deny: ["delete_*", "*_admin"]
  allow:
    - read_*
    - list_*
  constraints:
    write_file:
      max_calls: 3
      deny_patterns: ['"path":"/etc/', 'action.*delete']
    fs/read.v2: {max_calls: 0x10}
budget:
  max_tool_calls: 100
  max_wall_time_sec: 60
`
	p := mustParse(t, src)
	if p.Version != "1" || p.ServerID != "fs-server" || !p.Enforce() || p.AuditDir != "out/mcp" {
		t.Errorf("scalars: %+v", p)
	}
	if p.StoreArgs == nil || !*p.StoreArgs || p.StoreResults == nil || *p.StoreResults || p.AutoPack == nil || *p.AutoPack {
		t.Errorf("bools: %v %v %v", p.StoreArgs, p.StoreResults, p.AutoPack)
	}
	if p.Tools.Default != Deny || strings.Join(p.Tools.Deny, ",") != "delete_*,*_admin" || strings.Join(p.Tools.Allow, ",") != "read_*,list_*" {
		t.Errorf("tools: %+v", p.Tools)
	}
	if c := p.Tools.Constraints["write_file"]; c.MaxCalls != 3 || len(c.DenyPatterns) != 2 {
		t.Errorf("write_file constraint: %+v", c)
	}
	if c := p.Tools.Constraints["fs/read.v2"]; c.MaxCalls != 16 {
		t.Errorf("hex max_calls: %+v", c)
	}
	if p.Budget != (Budget{MaxToolCalls: 100, MaxWallTimeSec: 60}) {
		t.Errorf("budget: %+v", p.Budget)
	}
	if !strings.HasPrefix(p.Hash, "sha256:") || len(p.Hash) != 71 {
		t.Errorf("hash %q", p.Hash)
	}
	s := p.Summary()
	if s.File != "p.yaml" || s.Mode != "enforce" || s.Default != "deny" || s.DenyRules != 2 || s.AllowRules != 2 || s.Constraints != 2 || s.Budget.MaxToolCalls != 100 || s.Budget.MaxWallTimeSec != 60 {
		t.Errorf("summary: %+v", s)
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"mode: audit\n",
		"version: 1\n",
		"server_id: x\ntools:\nbudget:\n",  // empty values mean absent
		"tools: {deny: [], allow: []}\n",   // empty lists
		"tools:\n  constraints:\n    t:\n", // a tool with no limits
	} {
		p := mustParse(t, src)
		if p.Version != "1" || p.Mode != ModeAudit || p.Enforce() || p.Tools.Default != Allow || p.StoreArgs != nil || p.StoreResults != nil || p.AutoPack != nil || p.Budget != (Budget{}) {
			t.Errorf("%q: defaults not applied: %+v", src, p)
		}
	}
}

func TestParseHashIsRawBytes(t *testing.T) {
	t.Parallel()
	a, b := mustParse(t, "mode: audit\n"), mustParse(t, "mode: audit   \n")
	if a.Hash == b.Hash {
		t.Error("two different files hash the same")
	}
	// sha256 of "mode: audit\n", computed with sha256sum.
	if a.Hash != "sha256:e1c9ef096ce9ddb23112951dd4d264c40196bb3ce21c9eb8a1565c71a243f313" {
		t.Errorf("hash %q", a.Hash)
	}
}

// TestParseErrors: every refusal is exit 3 with the file, the line and the
// key path in the message, and a fix.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want, fix string }{
		{"", "p.yaml: the policy file is empty", "policy init"},
		{"# only a comment\n", "the policy file is empty", "policy init"},
		{"~\n", "the policy file is empty", "policy init"},
		{"- a\n- b\n", "p.yaml:1: the policy must be a YAML mapping", "policy init"},
		{"just text\n", "must be a YAML mapping of keys (version, mode, tools, ...), got a scalar", ""},
		{"mode: audit\n---\nmode: enforce\n", "p.yaml:2: the file holds more than one YAML document", "one policy per file"},
		{"mode: [audit\n", "p.yaml:", "YAML syntax"},
		{"mode: audit\n\tserver_id: x\n", "invalid YAML", "YAML syntax"},
		{"version: \"2\"\n", `p.yaml:1: unsupported version the string "2"`, `version: "1"`},
		{"version: 1.0\n", `unsupported version the number "1.0"`, ""},
		{"mode: enforced\n", `p.yaml:1: mode must be audit or enforce, got "enforced"`, "use audit"},
		{"mode: Enforce\n", `mode must be audit or enforce, got "Enforce"`, ""},
		{"mode: true\n", `mode must be a string, got the boolean "true"`, "quote it"},
		{"server_id: 42\n", `server_id must be a string, got the number "42"`, "quote it"},
		{"store_args: \"yes\"\n", `store_args must be true or false, got the string "yes"`, "true or false"},
		{"store_results: yes\n", `store_results must be true or false, got the string "yes"`, ""},
		{"auto_pack: 1\n", `auto_pack must be true or false`, ""},
		{"audit_dir: [a]\n", `audit_dir must be a string, got a list`, ""},
		{"mdoe: audit\n", `p.yaml:1: unknown key mdoe`, `did you mean "mode"?`},
		{"Mode: audit\n", `unknown key Mode`, `did you mean "mode"?`},
		{"mode: audit\nenforce: true\n", `p.yaml:2: unknown key enforce`, "the keys at the top level are version, server_id"},
		{"tools:\n  alow: [x]\n", `p.yaml:2: unknown key tools.alow`, `did you mean "allow"?`},
		{"tools:\n  deny_list: [x]\n", `unknown key tools.deny_list`, "under tools are default, deny, allow, constraints"},
		{"budget:\n  max_calls: 3\n", `p.yaml:2: unknown key budget.max_calls`, "under budget are max_tool_calls, max_wall_time_sec"},
		{"tools:\n  constraints:\n    w:\n      max_call: 3\n", `p.yaml:4: unknown key tools.constraints.w.max_call`, `did you mean "max_calls"?`},
		{"tools:\n  constraints:\n    fs/w:\n      pattern: [x]\n", `unknown key tools.constraints["fs/w"].pattern`, ""},
		{"mode: audit\nmode: enforce\n", `p.yaml:2: mode appears twice`, "keep one"},
		{"tools:\n  constraints:\n    w: {}\n    w: {}\n", `tools.constraints.w appears twice`, ""},
		{"tools: [a]\n", `tools must be a mapping, got a list`, ""},
		{"tools:\n  default: block\n", `p.yaml:2: tools.default must be allow or deny, got "block"`, "use allow"},
		{"tools:\n  deny: delete_*\n", `tools.deny must be a list of strings, got the string "delete_*"`, `deny: ["..."]`},
		{"tools:\n  allow:\n    - read_*\n    - 7\n", `p.yaml:4: tools.allow[1] must be a string, got the number "7"`, "quote it"},
		{"tools:\n  deny: [\"\"]\n", `tools.deny[0] is empty`, ""},
		{"tools:\n  deny: [\" rm\"]\n", `tools.deny[0] " rm" starts or ends with whitespace`, ""},
		{"tools:\n  deny: [ok, \"rm_[ab\"]\n", `tools.deny[1] "rm_[ab" has a '[' without a closing ']'`, "write [[] for a literal"},
		{"tools:\n  allow: [\"t[z-a]\"]\n", `tools.allow[0] "t[z-a]" holds a set that matches no character`, "low to high"},
		{"tools:\n  constraints: [w]\n", `tools.constraints must be a mapping of tool names, got a list`, "exact tool names"},
		{"tools:\n  constraints:\n    w: 3\n", `tools.constraints.w must be a mapping, got a scalar`, ""},
		{"tools:\n  constraints:\n    \"write_*\": {max_calls: 1}\n", `p.yaml:3: tools.constraints["write_*"] is a glob`, "exact tool names"},
		{"tools:\n  constraints:\n    \"\": {max_calls: 1}\n", `tools.constraints has an empty tool name`, ""},
		{"tools:\n  constraints:\n    w: {max_calls: 0}\n", `p.yaml:3: tools.constraints.w.max_calls must be a whole number of at least 1, got the number "0"`, "remove the key for no limit"},
		{"tools:\n  constraints:\n    w: {max_calls: -2}\n", `max_calls must be a whole number of at least 1, got the number "-2"`, ""},
		{"tools:\n  constraints:\n    w: {max_calls: 2.5}\n", `got the number "2.5"`, ""},
		{"tools:\n  constraints:\n    w: {max_calls: \"3\"}\n", `got the string "3"`, ""},
		{"tools:\n  constraints:\n    w: {max_calls: 99999999999999999999}\n", `max_calls must be a whole number`, ""},
		{"tools:\n  constraints:\n    w:\n      deny_patterns:\n        - ok\n        - '(?=x)'\n", `p.yaml:6: tools.constraints.w.deny_patterns[1] "(?=x)" is not a valid regexp: invalid or unsupported Perl syntax`, "RE2"},
		{"tools:\n  constraints:\n    w:\n      deny_patterns: ['(a']\n", `deny_patterns[0] "(a" is not a valid regexp: missing closing )`, ""},
		{"tools:\n  constraints:\n    w:\n      deny_patterns: ['']\n", `deny_patterns[0] is empty, which would match every call`, "tools.deny"},
		{"budget:\n  max_tool_calls: 0\n", `p.yaml:2: budget.max_tool_calls must be a whole number of at least 1, got the number "0"`, ""},
		{"budget:\n  max_wall_time_sec: 1000000001\n", `budget.max_wall_time_sec must be a whole number`, "1 to 1000000000"},
		{"budget:\n  max_wall_time_sec: 1h\n", `got the string "1h"`, ""},
		{"budget: 5\n", `budget must be a mapping, got a scalar`, ""},
		{"base: &b {mode: audit}\nmode: *b\n", `p.yaml:2: YAML aliases (*b) are not supported`, "write the value out"},
		{"<<: {mode: audit}\n", `has a key that is not a plain name`, ""},
		{"? [a]\n: b\n", `has a key that is not a plain name (a list)`, ""},
	} {
		_, err := Parse([]byte(tc.src), "p.yaml")
		var xe *exit.Error
		if !errors.As(err, &xe) || xe.Code != exit.BadInput {
			t.Errorf("%q: got %v, want an exit-3 error", tc.src, err)
			continue
		}
		if !strings.Contains(xe.Msg, tc.want) || !strings.Contains(xe.Fix, tc.fix) || xe.Fix == "" {
			t.Errorf("%q:\n got msg %q fix %q\nwant msg containing %q, fix containing %q", tc.src, xe.Msg, xe.Fix, tc.want, tc.fix)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error is not one line: %q", tc.src, err)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("mode: enforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(good)
	if err != nil || !p.Enforce() || p.Path != good {
		t.Fatalf("Load: %v %+v", err, p)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, append([]byte("mode: audit\n#"), make([]byte, maxFileSize)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "does not exist"},
		{dir, "is a directory"},
		{big, "larger than 1 MiB"},
	} {
		_, err := Load(tc.path)
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Load(%s): %v, want exit 3 naming the file and %q", tc.path, err, tc.want)
		}
	}
}

func TestSummaryWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{"tools:\n  deny: [rm]\n", []string{}},
		{"tools:\n  default: deny\n  allow: [w]\n  constraints:\n    w: {max_calls: 1}\n", []string{}},
		{"tools:\n  allow: [read_*]\n", []string{"tools.allow is not consulted while tools.default is allow; set tools.default: deny to allow only what it lists"}},
		{"tools:\n  deny: [\"delete_*\"]\n  constraints:\n    delete_file: {max_calls: 1}\n    w: {max_calls: 1}\n", []string{`tools.constraints.delete_file never applies: tools.deny[0] "delete_*" denies the tool first`}},
		{"tools:\n  default: deny\n  allow: [r]\n  constraints:\n    fs.w: {max_calls: 1}\n", []string{`tools.constraints["fs.w"] never applies: no tools.allow glob lets the tool run`}},
	} {
		got := mustParse(t, tc.src).Summary().Warnings
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || got == nil {
			t.Errorf("%q: warnings %q, want %q", tc.src, got, tc.want)
		}
	}
}

// Documents shaped to exhaust the parser: nesting far past any policy's
// depth, and an alias bomb (nine levels of nine references, a billion
// leaves if expanded). Each is refused with one exit-3 line, without
// expanding or recursing without bound, whichever YAML library parses.
func TestParseHostileStructure(t *testing.T) {
	t.Parallel()
	bomb := "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
		prev = n
	}
	for _, tc := range []struct{ name, src, want string }{
		{"nested lists", "tools:\n  deny: " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + "\n", "exceeded max depth"},
		{"nested mappings", strings.Repeat("{a: ", 100000) + strings.Repeat("}", 100000), "exceeded max depth"},
		{"alias bomb", bomb, "YAML aliases (*a) are not supported"},
	} {
		_, err := Parse([]byte(tc.src), "p.yaml")
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one exit-3 line containing %q", tc.name, err, tc.want)
		}
	}
}
