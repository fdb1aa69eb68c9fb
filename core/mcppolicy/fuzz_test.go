package mcppolicy

import (
	"errors"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

// FuzzParse: Parse never panics, refuses with an exit-3 one-line error, and
// every policy it accepts evaluates calls without panicking and with a
// well-formed Decision.
func FuzzParse(f *testing.F) {
	f.Add(Template("seed"), "write_file", []byte(`{"path":"/etc/x"}`))
	f.Add([]byte("tools:\n  default: deny\n  deny: [\"delete_*\"]\n  allow: [\"r[a-c]*\"]\n  constraints:\n    w: {max_calls: 1, deny_patterns: ['a.*b']}\nbudget: {max_tool_calls: 2, max_wall_time_sec: 1}\n"), "w", []byte(`{"a":"b"}`))
	f.Add([]byte("mode: enforce\n"), "x", []byte(nil))
	f.Add([]byte("a: &x [1]\nb: *x\n"), "", []byte(`{}`))
	f.Add([]byte("- [\n"), "t", []byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte, tool string, args []byte) {
		p, err := Parse(data, "f.yaml")
		if err != nil {
			var xe *exit.Error
			if !errors.As(err, &xe) || xe.Code != exit.BadInput || xe.Fix == "" {
				t.Fatalf("error %v is not an exit-3 error with a fix", err)
			}
			return
		}
		_ = p.Summary()
		e := p.NewEvaluator(t0)
		for i := 0; i < 3; i++ {
			d := e.Evaluate(tool, args, t0.Add(time.Duration(i)*time.Second))
			switch {
			case d.Verdict == Allow && (d.Reason != "" || d.Rule != ""):
				t.Fatalf("allow with a reason: %+v", d)
			case d.Verdict == Deny && (d.Reason == "" || d.Rule == "" || d.Detail == ""):
				t.Fatalf("deny without reason, rule or detail: %+v", d)
			case d.Verdict != Allow && d.Verdict != Deny:
				t.Fatalf("verdict %q", d.Verdict)
			}
		}
	})
}
