package mcppolicy

import (
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

// CallCheck answers "would this call be allowed?": one tools/call evaluated
// as the first call of a fresh session (budgets not used up yet), and what
// the proxy would do with it. `assay mcp policy check` and the MCP
// policy-check tool render it.
type CallCheck struct {
	File    string `json:"file"`
	Hash    string `json:"hash"`
	Mode    string `json:"mode" jsonschema:"enum=audit,enum=enforce"`
	Tool    string `json:"tool"`
	Verdict string `json:"verdict" jsonschema:"enum=allow,enum=deny"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
	Rule    string `json:"rule"`
	// Action is what mcp-proxy does with the call under this policy.
	Action string `json:"proxy_action" jsonschema:"enum=forward,enum=refuse,enum=forward and record the denial"`
	// ExitCode is 0 for allow, 1 for deny (the CLI's exit code).
	ExitCode int `json:"exit_code" jsonschema:"enum=0,enum=1"`
}

// CheckCall evaluates one call. args is the call's arguments as a JSON
// object (empty means {}); deny_patterns see its canonical JSON, as in the
// proxy (DECISIONS 19). Bad arguments are an exit-3 error.
func (p *Policy) CheckCall(tool string, args []byte) (*CallCheck, error) {
	if tool == "" {
		return nil, exit.Bad("name the tool, e.g. write_file", "no tool name given")
	}
	if len(args) == 0 {
		args = []byte("{}")
	}
	const fix = `pass the arguments as a JSON object, e.g. {"path":"/tmp/x"}`
	v, err := canon.Decode(args)
	if err != nil {
		return nil, exit.Bad(fix, "the arguments are not valid JSON: %v", err)
	}
	if _, ok := v.(*canon.Object); !ok {
		return nil, exit.Bad(fix, "the arguments must be a JSON object (MCP tool arguments are one)")
	}
	canonical, err := canon.Marshal(v)
	if err != nil {
		return nil, exit.Bad(fix, "the arguments cannot be made canonical: %v", err)
	}
	now := time.Now()
	d := p.NewEvaluator(now).Evaluate(tool, canonical, now)
	r := &CallCheck{File: p.Path, Hash: p.Hash, Mode: p.Mode, Tool: tool, Verdict: d.Verdict, Reason: d.Reason, Detail: d.Detail, Rule: d.Rule, Action: "forward"}
	if !d.Allowed() {
		r.ExitCode = exit.HonestFail
		r.Action = "forward and record the denial"
		if p.Enforce() {
			r.Action = "refuse"
		}
	}
	return r, nil
}
