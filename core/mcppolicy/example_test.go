package mcppolicy_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/mcppolicy"
)

// How the proxy uses a policy: one evaluator per session, one Decision per
// tools/call, with the arguments as canonical JSON.
func Example() {
	p, err := mcppolicy.Parse([]byte(`mode: enforce
tools:
  deny: ["delete_*"]
  constraints:
    write_file:
      deny_patterns: ['"path":"/etc/']
`), "assay.mcp-policy.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Now()
	e := p.NewEvaluator(start)
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"read_file", map[string]any{"path": "/etc/hosts"}},
		{"delete_file", map[string]any{"path": "/tmp/x"}},
		{"write_file", map[string]any{"path": "/etc/hosts", "content": "x"}},
	} {
		args, _ := canon.Marshal(c.args)
		d := e.Evaluate(c.tool, args, time.Now())
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %s %s %s", c.tool, d.Verdict, d.Reason, d.Rule)))
	}
	fmt.Println("enforce:", p.Enforce())
	// Output:
	// read_file: allow
	// delete_file: deny deny_list tools.deny[0]
	// write_file: deny argument_denied tools.constraints.write_file.deny_patterns[0]
	// enforce: true
}
