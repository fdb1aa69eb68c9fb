package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/mcppolicy"
)

func TestMCPPolicyInit(t *testing.T) {
	_, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	code, out, errs := ckRun(t, "mcp", "policy", "init", "--server-id", "fs-server")
	if code != 0 || errs != "" {
		t.Fatalf("init: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"Wrote assay.mcp-policy.yaml", "fs-server", "audit", "assay mcp policy validate assay.mcp-policy.yaml", "assay mcp-proxy --policy assay.mcp-policy.yaml -- <server cmd>"} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	path := filepath.Join(dir, mcppolicy.DefaultFile)
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mcppolicy.Load(path)
	if err != nil || p.ServerID != "fs-server" || p.Enforce() {
		t.Fatalf("written policy: %v %+v", err, p)
	}

	// An existing file is refused, as ci init refuses it, and left alone.
	if err := os.WriteFile(path, []byte("mode: enforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ckOneLine(t, []string{"mcp", "policy", "init"}, "assay.mcp-policy.yaml already exists (pass --force to overwrite it)")
	if b, _ := os.ReadFile(path); string(b) != "mode: enforce\n" {
		t.Errorf("refused init changed the file: %q", b)
	}
	code, out, _ = ckRun(t, "mcp", "policy", "init", "--force", "--server-id", "fs-server")
	if b, _ := os.ReadFile(path); code != 0 || string(b) != string(written) {
		t.Errorf("--force: exit %d, file %q", code, b)
	}

	// --json, --mode and -o into a new directory.
	code, out, _ = ckRun(t, "mcp", "policy", "init", "-o", "policies/strict.yaml", "--mode", "enforce", "--json")
	var doc struct {
		Command, Status, Output string
		Policy                  mcppolicy.Summary
	}
	ckJSON(t, out, &doc)
	if code != 0 || doc.Command != "mcp policy init" || doc.Status != "ok" || doc.Output != "policies/strict.yaml" || doc.Policy.Mode != "enforce" || doc.Policy.ServerID != "my-server" || !strings.HasPrefix(doc.Policy.Hash, "sha256:") {
		t.Errorf("init --json: exit %d, %+v", code, doc)
	}
	if p, err := mcppolicy.Load(filepath.Join(dir, "policies", "strict.yaml")); err != nil || !p.Enforce() || p.Hash != doc.Policy.Hash {
		t.Errorf("strict.yaml: %v %+v", err, p)
	}
	ckOneLine(t, []string{"mcp", "policy", "init", "-o", "x.yaml", "--mode", "strict"}, `--mode: unknown mode "strict" (use audit or enforce)`)
	if _, err := os.Stat("x.yaml"); err == nil {
		t.Error("a refused init wrote x.yaml")
	}
	ckOneLine(t, []string{"mcp", "policy", "init", "-o", "policies"}, "policies is a directory")
}

const cliPolicy = `mode: enforce
server_id: fs
store_args: true
tools:
  default: deny
  deny: ["delete_*"]
  allow: ["read_*", "write_file"]
  constraints:
    write_file:
      max_calls: 5
      deny_patterns: ['"path":"/etc/']
budget:
  max_tool_calls: 50
  max_wall_time_sec: 300
`

func writePolicy(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMCPPolicyValidate(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	path := writePolicy(t, dir, "p.yaml", cliPolicy)
	code, out, errs := ckRun(t, "mcp", "policy", "validate", path)
	if code != 0 || errs != "" {
		t.Fatalf("validate: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"VALID " + path, "sha256:", "server_id:   fs", "enforce", "default:     deny", "deny rules:  1", "allow rules: 2", "constraints: 1 tool(s)", "50 tool calls, 300 s wall time", "store_args=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = ckRun(t, "mcp", "policy", "validate", path, "--json")
	var s mcppolicy.Summary
	ckJSON(t, out, &s)
	if code != 0 || s.File != path || s.Mode != "enforce" || s.Default != "deny" || s.DenyRules != 1 || s.AllowRules != 2 || s.Constraints != 1 ||
		s.Budget.MaxToolCalls != 50 || s.Budget.MaxWallTimeSec != 300 || s.StoreArgs == nil || !*s.StoreArgs || s.StoreResults != nil {
		t.Errorf("validate --json: exit %d, %+v", code, s)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings for a coherent policy: %q", s.Warnings)
	}
	odd := writePolicy(t, dir, "odd.yaml", "tools:\n  allow: [read_*]\n")
	if code, out, _ := ckRun(t, "mcp", "policy", "validate", odd); code != 0 || !strings.Contains(out, "note: tools.allow is not consulted while tools.default is allow") {
		t.Errorf("validate odd.yaml: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, `"store_results": null`) {
		t.Errorf("absent store_results is not null: %s", out)
	}

	bad := writePolicy(t, dir, "bad.yaml", "mode: enforce\ntools:\n  deny: [x]\n  alow: [y]\n")
	ckOneLine(t, []string{"mcp", "policy", "validate", bad}, bad+`:4: unknown key tools.alow (did you mean "allow"?`)
	ckOneLine(t, []string{"mcp", "policy", "validate", filepath.Join(dir, "none.yaml")}, "does not exist")
	ckOneLine(t, []string{"mcp", "policy", "validate"}, "takes 1 argument(s), got 0")

	// --json on bad input: one JSON error document, exit 3.
	code, out, _ = ckRun(t, "mcp", "policy", "validate", bad, "--json")
	var e struct {
		Status, Error, Fix string
		ExitCode           int `json:"exit_code"`
	}
	ckJSON(t, out, &e)
	if code != 3 || e.Status != "error" || e.ExitCode != 3 || !strings.Contains(e.Error, "unknown key tools.alow") || e.Fix == "" {
		t.Errorf("validate --json bad: exit %d, %+v", code, e)
	}
}

func TestMCPPolicyCheck(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	enforce := writePolicy(t, dir, "enforce.yaml", cliPolicy)
	audit := writePolicy(t, dir, "audit.yaml", strings.Replace(cliPolicy, "mode: enforce", "mode: audit", 1))

	for _, tc := range []struct {
		policy, tool, args string
		code               int
		reason, rule, act  string
	}{
		{enforce, "read_file", `{"path":"/etc/passwd"}`, 0, "", "", "forward"},
		{enforce, "write_file", `{"path":"/tmp/x","data":"y"}`, 0, "", "", "forward"},
		{enforce, "write_file", `{ "data": "y", "path": "/etc/hosts" }`, 1, "argument_denied", "tools.constraints.write_file.deny_patterns[0]", "refuse"},
		{enforce, "delete_file", ``, 1, "deny_list", "tools.deny[0]", "refuse"},
		{enforce, "exec", `{}`, 1, "not_in_allow", "tools.default", "refuse"},
		{audit, "delete_file", `{}`, 1, "deny_list", "tools.deny[0]", "forward and record the denial"},
		{audit, "read_file", `{}`, 0, "", "", "forward"},
	} {
		args := []string{"mcp", "policy", "check", tc.policy, "--tool", tc.tool, "--json"}
		if tc.args != "" {
			args = append(args, "--args", tc.args)
		}
		code, out, errs := ckRun(t, args...)
		var r mcppolicy.CallCheck
		ckJSON(t, out, &r)
		wantVerdict := map[int]string{0: "allow", 1: "deny"}[tc.code]
		if code != tc.code || errs != "" || r.Verdict != wantVerdict || r.Reason != tc.reason || r.Rule != tc.rule || r.Action != tc.act || r.ExitCode != tc.code || r.Tool != tc.tool || r.File != tc.policy {
			t.Errorf("%s %s %s: exit %d, stderr %q, %+v", filepath.Base(tc.policy), tc.tool, tc.args, code, errs, r)
		}
		if (tc.code == 1) != (r.Detail != "") {
			t.Errorf("%s: detail %q", tc.tool, r.Detail)
		}
	}

	// Text mode.
	code, out, _ := ckRun(t, "mcp", "policy", "check", enforce, "--tool", "delete_file")
	if code != 1 || !strings.Contains(out, `DENY delete_file: tool "delete_file" matches deny glob "delete_*"`) || !strings.Contains(out, "rule:   tools.deny[0]") || !strings.Contains(out, "refuses this call") {
		t.Errorf("check text deny: exit %d\n%s", code, out)
	}
	code, out, _ = ckRun(t, "mcp", "policy", "check", audit, "--tool", "read_file")
	if code != 0 || !strings.HasPrefix(out, "ALLOW read_file") {
		t.Errorf("check text allow: exit %d\n%s", code, out)
	}

	// Bad input: exit 3, one line.
	ckOneLine(t, []string{"mcp", "policy", "check", enforce}, "--tool is required")
	ckOneLine(t, []string{"mcp", "policy", "check", enforce, "--tool", "x", "--args", "{nope"}, "the arguments are not valid JSON")
	ckOneLine(t, []string{"mcp", "policy", "check", enforce, "--tool", "x", "--args", `["a"]`}, "the arguments must be a JSON object")
	ckOneLine(t, []string{"mcp", "policy", "check", filepath.Join(dir, "none.yaml"), "--tool", "x"}, "does not exist")
	bad := writePolicy(t, dir, "bad.yaml", "budget:\n  max_tool_calls: 0\n")
	ckOneLine(t, []string{"mcp", "policy", "check", bad, "--tool", "x"}, bad+":2: budget.max_tool_calls must be a whole number of at least 1")
}

func TestMCPPolicyGroupRefusesUnknown(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	code, _, errs := ckRun(t, "mcp", "policy", "valdiate", "x")
	if code != 3 || !strings.Contains(errs, "assay: ") {
		t.Errorf("unknown subcommand: exit %d, %q", code, errs)
	}
}
