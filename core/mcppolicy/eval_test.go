package mcppolicy

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
)

var t0 = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// args returns the canonical JSON of v, as the proxy passes it.
func args(t *testing.T, v any) []byte {
	t.Helper()
	b, err := canon.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type call struct {
	tool string
	args any
	at   time.Duration // after t0
	want Decision
}

func allow() Decision { return Decision{Verdict: Allow} }

func denied(reason, rule, detail string) Decision {
	return Decision{Verdict: Deny, Reason: reason, Rule: rule, Detail: detail}
}

// TestEvaluateRules runs a sequence of calls per policy through one
// evaluator: every rule, the order between rules (a call matching two gets
// the first), and counters that move only on allow.
func TestEvaluateRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy string
		calls  []call
	}{
		{"no rules allows everything", "mode: enforce\n", []call{
			{"anything", map[string]any{}, 0, allow()},
			{"delete_all", nil, time.Hour, allow()},
		}},
		{"1 deny glob", "tools:\n  deny: [\"delete_*\", \"*_admin\"]\n", []call{
			{"delete_file", map[string]any{}, 0, denied(ReasonDenyList, "tools.deny[0]", `tool "delete_file" matches deny glob "delete_*"`)},
			{"user_admin", map[string]any{}, 0, denied(ReasonDenyList, "tools.deny[1]", `tool "user_admin" matches deny glob "*_admin"`)},
			{"Delete_file", map[string]any{}, 0, allow()}, // case-sensitive, as fnmatchcase
			{"read_file", map[string]any{}, 0, allow()},
		}},
		{"1 before 2: deny beats allow", "tools:\n  default: deny\n  deny: [\"rm\"]\n  allow: [\"*\"]\n", []call{
			{"rm", map[string]any{}, 0, denied(ReasonDenyList, "tools.deny[0]", `tool "rm" matches deny glob "rm"`)},
			{"ls", map[string]any{}, 0, allow()},
		}},
		{"2 default deny", "tools:\n  default: deny\n  allow: [\"read_*\", \"fs/?s\"]\n", []call{
			{"read_file", map[string]any{}, 0, allow()},
			{"fs/ls", map[string]any{}, 0, allow()},
			{"write_file", map[string]any{}, 0, denied(ReasonNotInAllow, "tools.default", `tool "write_file" matches no tools.allow glob and tools.default is deny`)},
		}},
		{"2 default deny, empty allow", "tools:\n  default: deny\n", []call{
			{"read_file", map[string]any{}, 0, denied(ReasonNotInAllow, "tools.default", `tool "read_file" is not allowed: tools.default is deny and tools.allow lists no globs`)},
		}},
		{"default allow ignores allow list", "tools:\n  allow: [\"read_*\"]\n", []call{
			{"write_file", map[string]any{}, 0, allow()},
		}},
		{"3 per-tool max_calls, counting only allowed calls", "tools:\n  constraints:\n    w:\n      max_calls: 2\n      deny_patterns: [secret]\n", []call{
			{"w", map[string]any{"a": 1}, 0, allow()},
			{"w", map[string]any{"a": "SECRET"}, 0, denied(ReasonArgumentDenied, "tools.constraints.w.deny_patterns[0]", `arguments of "w" match deny pattern "secret"`)},
			{"w", map[string]any{"a": 2}, 0, allow()}, // the denied call did not count
			{"w", map[string]any{"a": 3}, 0, denied(ReasonToolBudget, "tools.constraints.w.max_calls", `tool "w" already made its 2 allowed call(s) (max_calls 2)`)},
			{"other", map[string]any{}, 0, allow()}, // per tool
		}},
		{"3 before 4: budget beats pattern", "tools:\n  constraints:\n    w: {max_calls: 1, deny_patterns: [x]}\n", []call{
			{"w", map[string]any{"k": "a"}, 0, allow()},
			{"w", map[string]any{"k": "x"}, 0, denied(ReasonToolBudget, "tools.constraints.w.max_calls", `tool "w" already made its 1 allowed call(s) (max_calls 1)`)},
		}},
		{"4 patterns search canonical JSON, case-insensitively", "tools:\n  constraints:\n    write_file:\n      deny_patterns: ['\"path\":\"/etc/', 'action.*delete', '^\\{\"a\":1\\}$']\n", []call{
			{"write_file", map[string]any{"path": "/etc/passwd", "data": "x"}, 0, denied(ReasonArgumentDenied, "tools.constraints.write_file.deny_patterns[0]", `arguments of "write_file" match deny pattern "\"path\":\"/etc/"`)},
			{"write_file", map[string]any{"path": "/tmp/etc/x"}, 0, allow()},
			{"write_file", map[string]any{"path": "/tmp", "action": "DELETE"}, 0, denied(ReasonArgumentDenied, "tools.constraints.write_file.deny_patterns[1]", `arguments of "write_file" match deny pattern "action.*delete"`)},
			{"write_file", map[string]any{"a": 1}, 0, denied(ReasonArgumentDenied, "tools.constraints.write_file.deny_patterns[2]", `arguments of "write_file" match deny pattern "^\\{\"a\":1\\}$"`)},
			{"write_file", map[string]any{"a": 1, "b": 2}, 0, allow()},
			{"read_file", map[string]any{"path": "/etc/passwd"}, 0, allow()}, // constraints are per exact name
		}},
		{"4 tool names with dots get a bracketed rule path", "tools:\n  constraints:\n    fs.write:\n      deny_patterns: [x]\n", []call{
			{"fs.write", map[string]any{"x": 1}, 0, denied(ReasonArgumentDenied, `tools.constraints["fs.write"].deny_patterns[0]`, `arguments of "fs.write" match deny pattern "x"`)},
		}},
		{"4 before 5: pattern beats session budget", "tools:\n  constraints:\n    w: {deny_patterns: [bad]}\nbudget:\n  max_tool_calls: 1\n", []call{
			{"r", map[string]any{}, 0, allow()},
			{"w", map[string]any{"v": "bad"}, 0, denied(ReasonArgumentDenied, "tools.constraints.w.deny_patterns[0]", `arguments of "w" match deny pattern "bad"`)},
			{"w", map[string]any{"v": "ok"}, 0, denied(ReasonSessionBudget, "budget.max_tool_calls", `the session already made its 1 allowed tool call(s) (max_tool_calls 1)`)},
		}},
		{"5 session max_tool_calls", "budget:\n  max_tool_calls: 2\n", []call{
			{"a", map[string]any{}, 0, allow()},
			{"b", map[string]any{}, 0, allow()},
			{"c", map[string]any{}, 0, denied(ReasonSessionBudget, "budget.max_tool_calls", `the session already made its 2 allowed tool call(s) (max_tool_calls 2)`)},
		}},
		{"2 before 5: not_in_allow beats session budget", "tools:\n  default: deny\n  allow: [a]\nbudget:\n  max_tool_calls: 1\n", []call{
			{"a", map[string]any{}, 0, allow()},
			{"b", map[string]any{}, 0, denied(ReasonNotInAllow, "tools.default", `tool "b" matches no tools.allow glob and tools.default is deny`)},
			{"a", map[string]any{}, 0, denied(ReasonSessionBudget, "budget.max_tool_calls", `the session already made its 1 allowed tool call(s) (max_tool_calls 1)`)},
		}},
		{"6 max_wall_time_sec, boundary included", "budget:\n  max_wall_time_sec: 10\n", []call{
			{"a", map[string]any{}, 0, allow()},
			{"a", map[string]any{}, 9*time.Second + 999*time.Millisecond, allow()},
			{"a", map[string]any{}, 10 * time.Second, denied(ReasonSessionTimedOut, "budget.max_wall_time_sec", `the session has run 10s, at or past its max_wall_time_sec of 10s`)},
			{"a", map[string]any{}, 90*time.Second + 1500*time.Microsecond, denied(ReasonSessionTimedOut, "budget.max_wall_time_sec", `the session has run 1m30.001s, at or past its max_wall_time_sec of 10s`)},
		}},
		{"5 before 6: session budget beats time", "budget:\n  max_tool_calls: 1\n  max_wall_time_sec: 1\n", []call{
			{"a", map[string]any{}, 0, allow()},
			{"a", map[string]any{}, time.Minute, denied(ReasonSessionBudget, "budget.max_tool_calls", `the session already made its 1 allowed tool call(s) (max_tool_calls 1)`)},
		}},
		{"1 before 6: deny glob beats time", "tools:\n  deny: [x]\nbudget:\n  max_wall_time_sec: 1\n", []call{
			{"x", map[string]any{}, time.Minute, denied(ReasonDenyList, "tools.deny[0]", `tool "x" matches deny glob "x"`)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy)
			e := p.NewEvaluator(t0)
			for i, c := range tc.calls {
				got := e.Evaluate(c.tool, args(t, c.args), t0.Add(c.at))
				if got != c.want {
					t.Errorf("call %d (%s %v):\n got %+v\nwant %+v", i, c.tool, c.args, got, c.want)
				}
				if got.Allowed() != (c.want.Verdict == Allow) {
					t.Errorf("call %d: Allowed() = %v", i, got.Allowed())
				}
			}
		})
	}
}

// TestEvaluateModes: the mode changes Enforce(), never the Decision.
func TestEvaluateModes(t *testing.T) {
	t.Parallel()
	rules := "tools:\n  deny: [rm]\n  constraints:\n    w: {max_calls: 1}\n"
	var got [2][]Decision
	for i, mode := range []string{ModeAudit, ModeEnforce} {
		p := mustParse(t, "mode: "+mode+"\n"+rules)
		if p.Enforce() != (mode == ModeEnforce) || p.Mode != mode {
			t.Errorf("mode %s: Enforce() = %v", mode, p.Enforce())
		}
		e := p.NewEvaluator(t0)
		for _, tool := range []string{"rm", "w", "w", "ls"} {
			got[i] = append(got[i], e.Evaluate(tool, []byte(`{}`), t0))
		}
	}
	if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
		t.Errorf("audit and enforce decide differently:\n audit   %+v\n enforce %+v", got[0], got[1])
	}
	if got[0][0].Reason != ReasonDenyList || got[0][2].Reason != ReasonToolBudget || !got[0][3].Allowed() {
		t.Errorf("decisions: %+v", got[0])
	}
}

// TestEvaluateConcurrent: many goroutines share one evaluator; exactly the
// budgeted number of calls is allowed (run with -race).
func TestEvaluateConcurrent(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "tools:\n  constraints:\n    w: {max_calls: 7}\nbudget:\n  max_tool_calls: 50\n")
	e := p.NewEvaluator(t0)
	var mu sync.Mutex
	reasons := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				tool := "r"
				if i%2 == 0 {
					tool = "w"
				}
				d := e.Evaluate(tool, []byte(`{}`), t0)
				mu.Lock()
				reasons[d.Reason]++
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	total, w := e.Counts("w")
	if reasons[""] != 50 || total != 50 || w != 7 {
		t.Errorf("allowed %d (total %d, w %d), want 50 (w 7); reasons %v", reasons[""], total, w, reasons)
	}
	if reasons[ReasonToolBudget]+reasons[ReasonSessionBudget] != 16*20-50 {
		t.Errorf("reasons %v", reasons)
	}
}

// TestEvaluateSeparateSessions: each evaluator has its own counters.
func TestEvaluateSeparateSessions(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "budget:\n  max_tool_calls: 1\n")
	a, b := p.NewEvaluator(t0), p.NewEvaluator(t0)
	if !a.Evaluate("x", nil, t0).Allowed() || !b.Evaluate("x", nil, t0).Allowed() || a.Evaluate("x", nil, t0).Allowed() {
		t.Error("sessions share counters")
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p, err := Parse(Template("bench"), "t.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p2, err := Parse([]byte("tools:\n  deny: [\"delete_*\", \"*_admin\", \"rm*\"]\n  constraints:\n    write_file:\n      deny_patterns: ['\"path\":\"/etc/', 'action.*delete']\n"), "b.yaml")
	if err != nil {
		b.Fatal(err)
	}
	argsJSON := []byte(`{"content":"hello world, a short file body","path":"/tmp/out/notes.txt"}`)
	for name, pol := range map[string]*Policy{"template": p, "rules": p2} {
		b.Run(name, func(b *testing.B) {
			e := pol.NewEvaluator(time.Now())
			for b.Loop() {
				e.Evaluate("write_file", argsJSON, t0)
			}
		})
	}
}
