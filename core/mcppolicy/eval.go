package mcppolicy

import (
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Decision is the policy's verdict on one tool call. It is the same in
// audit and enforce mode; the proxy decides what a deny means.
type Decision struct {
	Verdict string `json:"verdict" jsonschema:"enum=allow,enum=deny"`
	// Reason is "" on allow, else one of the Reason* constants.
	Reason string `json:"reason"`
	// Detail is one sentence naming the tool and the rule's value. It never
	// quotes the arguments, which may hold secrets.
	Detail string `json:"detail"`
	// Rule is the key path of the rule that decided, e.g. tools.deny[0] or
	// tools.constraints.write_file.deny_patterns[1]; "" on allow.
	Rule string `json:"rule"`
}

// Allowed reports whether the verdict is allow.
func (d Decision) Allowed() bool { return d.Verdict == Allow }

// Evaluator evaluates the calls of one session, keeping the per-tool and
// session counters. It is safe for concurrent use; each Evaluate is atomic
// (check and count happen under one lock), so concurrent calls can never
// overshoot a budget.
type Evaluator struct {
	p     *Policy
	start time.Time

	mu      sync.Mutex
	total   int
	perTool map[string]int
}

// NewEvaluator starts a session at start (the time the wall-time budget
// counts from).
func (p *Policy) NewEvaluator(start time.Time) *Evaluator {
	return &Evaluator{p: p, start: start, perTool: map[string]int{}}
}

// Evaluate decides one call of tool with its arguments as canonical JSON
// (core/canon), at time now. Allowed calls are counted; denied ones are not.
func (e *Evaluator) Evaluate(tool string, canonicalArgs []byte, now time.Time) Decision {
	p := e.p
	// 1. deny globs.
	for i, re := range p.deny {
		if re.MatchString(tool) {
			return deny(ReasonDenyList, fmt.Sprintf("tools.deny[%d]", i), "tool %q matches deny glob %q", tool, p.Tools.Deny[i])
		}
	}
	// 2. default deny: the tool must match an allow glob.
	if p.Tools.Default == Deny && !matchAny(p.allow, tool) {
		if len(p.allow) == 0 {
			return deny(ReasonNotInAllow, "tools.default", "tool %q is not allowed: tools.default is deny and tools.allow lists no globs", tool)
		}
		return deny(ReasonNotInAllow, "tools.default", "tool %q matches no tools.allow glob and tools.default is deny", tool)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	c, constrained := p.Tools.Constraints[tool]
	// 3. the tool's own call budget.
	if constrained && c.MaxCalls > 0 && e.perTool[tool] >= c.MaxCalls {
		return deny(ReasonToolBudget, joinPath("tools.constraints", tool)+".max_calls", "tool %q already made its %d allowed call(s) (max_calls %d)", tool, e.perTool[tool], c.MaxCalls)
	}
	// 4. argument patterns, searched in the canonical JSON.
	if constrained {
		for i, re := range p.patterns[tool] {
			if re.Match(canonicalArgs) {
				return deny(ReasonArgumentDenied, fmt.Sprintf("%s.deny_patterns[%d]", joinPath("tools.constraints", tool), i), "arguments of %q match deny pattern %q", tool, c.DenyPatterns[i])
			}
		}
	}
	// 5. the session's call budget.
	if b := p.Budget.MaxToolCalls; b > 0 && e.total >= b {
		return deny(ReasonSessionBudget, "budget.max_tool_calls", "the session already made its %d allowed tool call(s) (max_tool_calls %d)", e.total, b)
	}
	// 6. the session's wall time.
	if s := p.Budget.MaxWallTimeSec; s > 0 {
		if elapsed := now.Sub(e.start); elapsed >= time.Duration(s)*time.Second {
			return deny(ReasonSessionTimedOut, "budget.max_wall_time_sec", "the session has run %s, at or past its max_wall_time_sec of %ds", elapsed.Truncate(time.Millisecond), s)
		}
	}
	e.total++
	e.perTool[tool]++
	return Decision{Verdict: Allow}
}

// Counts returns the allowed calls so far: in total and for tool.
func (e *Evaluator) Counts(tool string) (total, forTool int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.total, e.perTool[tool]
}

func deny(reason, rule, format string, args ...any) Decision {
	return Decision{Verdict: Deny, Reason: reason, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
