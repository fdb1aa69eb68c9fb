package incident

import (
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/mcppolicy"
)

// Receipt fields are what an MCP client sent (tool names, arguments) and
// what a recorder wrote: any receipt line is evaluated into one row with
// a known decision and change, never a panic.
func FuzzReplayRow(f *testing.F) {
	for _, s := range []string{
		`{"type":"mcp_tool_call","session_id":"s","tool_name":"get_weather","arguments_content":{"city":"x"},"policy_verdict":"allow","outcome":"forwarded","request_observed_at":"2026-01-01T00:00:00.000000+00:00"}`,
		`{"type":"mcp_tool_call","tool_name":"delete_records","arguments_content":null,"policy_verdict":"no_policy","outcome":"denied","outcome_detail":"malformed"}`,
		`{"type":"mcp_tool_call","tool_name":7,"arguments_content":[1,2],"policy_verdict":{},"request_observed_at":"x"}`,
		`{"type":"mcp_tool_call","tool_name":"gеt_weather","arguments_content":"\u2028","arguments_hash":"sha256:00"}`,
	} {
		f.Add([]byte(s))
	}
	p, err := mcppolicy.Parse([]byte("tools:\n  deny: [\"delete_*\"]\n  constraints:\n    get_weather:\n      max_calls: 1\n      deny_patterns: [\"x\"]\nbudget:\n  max_tool_calls: 2\n  max_wall_time_sec: 5\n"), "fuzz.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		v, err := canon.Decode(line)
		o, ok := v.(*canon.Object)
		if err != nil || !ok {
			return
		}
		r := &Result{Calls: []Call{}}
		evaluate(&records{calls: []*canon.Object{o, o}, started: map[string]time.Time{}}, p, p, r)
		if len(r.Calls) != 2 || r.Summary.Calls != 2 {
			t.Fatalf("%d rows for 2 receipts", len(r.Calls))
		}
		for _, c := range r.Calls {
			switch c.Change {
			case NewlyDenied, NewlyAllowed, Unchanged, NotEvaluated:
			default:
				t.Fatalf("change %q", c.Change)
			}
			switch c.Candidate {
			case mcppolicy.Allow, mcppolicy.Deny, NotEvaluated:
			default:
				t.Fatalf("candidate %q", c.Candidate)
			}
		}
	})
}
