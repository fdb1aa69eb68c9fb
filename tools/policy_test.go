package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/mcppolicy"
)

// policy-check answers from the project's policy exactly as the proxy
// would decide: the CLI's `mcp policy check` and this tool share
// mcppolicy.CheckCall.
func TestPolicyCheckTool(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	os.WriteFile(filepath.Join(e.root, mcppolicy.DefaultFile), []byte(`mode: enforce
tools:
  deny: ["delete_*"]
  constraints:
    write_file:
      deny_patterns: ['"path":"/etc/']
`), 0o644)
	os.WriteFile(filepath.Join(e.root, "broken.yaml"), []byte("mode: enforce\ntools:\n  denny: [x]\n"), 0o644)
	for _, tc := range []struct {
		args                 map[string]any
		verdict, reason, act string
	}{
		{map[string]any{"tool": "read_file"}, "allow", "", "forward"},
		{map[string]any{"tool": "delete_records"}, "deny", "deny_list", "refuse"},
		{map[string]any{"tool": "write_file", "arguments": map[string]any{"path": "/etc/passwd", "data": "x"}}, "deny", "argument_denied", "refuse"},
		{map[string]any{"tool": "write_file", "arguments": map[string]any{"path": "/tmp/x"}}, "allow", "", "forward"},
	} {
		var r mcppolicy.CallCheck
		e.ok("policy-check", tc.args, &r)
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.Action != tc.act || r.Hash == "" {
			t.Errorf("%v: %+v", tc.args, r)
		}
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"tool": "x", "policy": "broken.yaml"}, "denny"},
		{map[string]any{"tool": "x", "policy": "missing.yaml"}, "missing.yaml"},
		{map[string]any{"tool": "x", "policy": "/etc/passwd"}, "outside the allowed roots"},
	} {
		res := e.call("policy-check", tc.args)
		if !res.IsError || !strings.Contains(text(res), tc.want) {
			t.Errorf("%v: isError %v, %q (want %q)", tc.args, res.IsError, text(res), tc.want)
		}
	}
}
