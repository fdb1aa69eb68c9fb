package tools

import (
	"context"
	"fmt"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/ops"
)

// PolicyCheckArgs are the arguments of policy-check.
type PolicyCheckArgs struct {
	Policy    string         `json:"policy,omitempty" jsonschema:"description=MCP proxy policy file (default assay.mcp-policy.yaml; relative paths resolve in the allowed roots)"`
	Tool      string         `json:"tool" jsonschema:"description=Tool name of the call to check,minLength=1"`
	Arguments map[string]any `json:"arguments,omitempty" jsonschema:"description=The call's arguments; deny_patterns are matched against their canonical JSON"`
}

func policyTool() Tool {
	return newTool("policy-check", "Check a tool call against an MCP proxy policy",
		"Would this tool call be allowed by the project's assay mcp-proxy policy? Loads and validates the policy (an invalid one is an error naming the problem) and evaluates the call as the first of a fresh session: verdict allow or deny, the reason and rule that decided, and what the proxy would do (forward, refuse, or forward and record the denial in audit mode).",
		Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
		func(ctx context.Context, c *Call, a PolicyCheckArgs) (mcppolicy.CallCheck, string, error) {
			file := a.Policy
			if file == "" {
				file = mcppolicy.DefaultFile
			}
			path, err := c.Path(ctx, file)
			if err != nil {
				return mcppolicy.CallCheck{}, "", err
			}
			args, err := rawArgumentsMember(c, "arguments")
			if err != nil {
				return mcppolicy.CallCheck{}, "", err
			}
			// The same request type as 'assay mcp policy check'.
			r, err := ops.PolicyCheck(ops.PolicyCheckRequest{Policy: path, Tool: a.Tool, Arguments: args})
			if err != nil {
				return mcppolicy.CallCheck{}, "", err
			}
			sum := fmt.Sprintf("%s %s under %s (%s mode): the proxy would %s", r.Verdict, r.Tool, file, r.Mode, r.Action)
			if r.Reason != "" {
				sum += fmt.Sprintf("; %s (%s): %s", r.Reason, r.Rule, r.Detail)
			}
			return *r, sum, nil
		})
}

// rawArgumentsMember returns one member of the raw arguments as canonical
// JSON bytes (exact numbers and escapes, which a map[string]any loses), or
// nil when it is absent or null.
func rawArgumentsMember(c *Call, key string) ([]byte, error) {
	v, err := canon.Decode(c.Raw)
	if err != nil {
		return nil, Failf("arguments are not valid JSON: %v", err)
	}
	obj, _ := v.(*canon.Object)
	if obj == nil {
		return nil, nil
	}
	m, ok := obj.Get(key)
	if !ok || m == nil {
		return nil, nil
	}
	b, err := canon.Marshal(m)
	if err != nil {
		return nil, Failf("%s cannot be made canonical: %v", key, err)
	}
	return b, nil
}
