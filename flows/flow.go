// Package flows turns the adoption path into step plans that a person
// (`assay flow NAME`) or an agent (the MCP `run-flow` tool) can read first
// and then apply. A flow is an ordered list of steps; each step runs one
// program as argv (never through a shell). Planning never executes anything;
// Apply runs the steps in order and stops at the first failure.
//
// Usage:
//
//	f, err := flows.Get("adopt")
//	plan, err := f.Plan(dir, map[string]string{"run_command": "python3 app.py"})
//	out := flows.Apply(ctx, plan, &flows.ExecRunner{})
package flows

import (
	"fmt"
	"github.com/assay-dev/assay/core/suggest"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/exit"
)

// AssayArg0 is the argv[0] a step uses to mean "the assay binary itself";
// the runner replaces it with the configured binary path.
const AssayArg0 = "assay"

// Step statuses in a plan and in an outcome.
const (
	StatusPlanned   = "planned"    // will run on apply
	StatusSkipped   = "skipped"    // skip rule matched
	StatusPrintOnly = "print_only" // shown, never run
	StatusOK        = "ok"         // ran, exit code accepted
	StatusFailed    = "failed"     // ran, exit code not accepted (or could not start)
	StatusNotRun    = "not_run"    // after a failure
)

// Step is one command in a flow.
type Step struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Why   string   `json:"why"`
	Argv  []string `json:"argv"`
	// OKCodes are the exit codes that count as success (default [0]).
	OKCodes []int `json:"ok_codes"`
	// SkipRule describes, for readers, when the step is skipped.
	SkipRule string `json:"skip_rule,omitempty"`
	// PrintOnly steps are shown but never executed (e.g. a long-running server).
	PrintOnly bool `json:"print_only,omitempty"`
	// skip reports a reason when the step should be skipped in dir. It only
	// looks at the file system; it never executes anything.
	skip func(dir string) (reason string, skip bool)
}

// Param is a named input of a flow.
type Param struct {
	Name     string `json:"name"`
	Default  string `json:"default,omitempty"`
	Help     string `json:"help"`
	Required bool   `json:"required,omitempty"`
	// Path marks a file-system path. PlanOptions.ConfinePath sees every
	// path param (its default and derived value included) before the steps
	// are built, so a caller that confines paths (the MCP server) checks
	// each one in one place.
	Path bool `json:"path,omitempty"`
}

// Flow is a named step list built from params.
type Flow struct {
	Name    string  `json:"name"`
	Summary string  `json:"summary"`
	Params  []Param `json:"params"`
	// derive, when set, fills params whose default depends on dir (before
	// path params are confined); it may inspect dir but never executes.
	derive func(dir string, p map[string]string) error
	// build returns the steps for resolved params (every declared param is
	// present, defaulted); it may inspect dir but never executes anything.
	build func(dir string, p map[string]string) ([]Step, error)
}

// registry holds every flow: one entry plus one function per flow.
var registry = map[string]*Flow{}

func register(f *Flow) { registry[f.Name] = f }

// Names returns the flow names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the named flow, or a bad-input error listing the flows.
func Get(name string) (*Flow, error) {
	f, ok := registry[name]
	if !ok {
		return nil, exit.Bad(suggest.Hint(name, Names())+"use one of: "+strings.Join(Names(), ", "), "unknown flow %q", name)
	}
	return f, nil
}

// Plan is a flow's steps resolved for one directory and set of params.
type Plan struct {
	Flow   string            `json:"flow"`
	Dir    string            `json:"dir"`
	Params map[string]string `json:"params"`
	Steps  []PlannedStep     `json:"steps"`
	// Blocked, when set, says why the plan can be read but not applied yet
	// (a placeholder stands in for something that does not exist);
	// BlockedFix says how to make it. Applying a blocked plan runs nothing.
	Blocked    string `json:"blocked,omitempty"`
	BlockedFix string `json:"blocked_fix,omitempty"`
}

// PlannedStep is a step plus its planned status.
type PlannedStep struct {
	Step
	Number     int    `json:"step"`
	Command    string `json:"command"`
	Status     string `json:"status"`
	SkipReason string `json:"skip_reason,omitempty"`
}

// PlanOptions change how a plan is made.
type PlanOptions struct {
	// ConfinePath, when set, is called with every path param's name and
	// value (relative values are relative to the plan's directory) and
	// returns the path the steps use, or an error that refuses the plan.
	ConfinePath func(name, value string) (string, error)
}

// Plan resolves the flow's params (unknown or missing required ones are bad
// input, exit 3) and lists its steps for dir. Skip rules are evaluated
// against the file system as it is now; nothing is executed.
func (f *Flow) Plan(dir string, params map[string]string) (*Plan, error) {
	return f.PlanWith(dir, params, PlanOptions{})
}

// PlanWith is Plan with options.
func (f *Flow) PlanWith(dir string, params map[string]string, opt PlanOptions) (*Plan, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, exit.Bad("pass an existing directory", "cannot resolve %q: %v", dir, err)
	}
	resolved, err := f.resolve(params)
	if err != nil {
		return nil, err
	}
	var derived error // a blocked plan (needsInput) still gets its steps
	if f.derive != nil {
		if err := f.derive(abs, resolved); err != nil {
			if _, ok := asBlocked(err); !ok {
				return nil, err
			}
			derived = err
		}
	}
	if opt.ConfinePath != nil {
		for _, p := range f.Params {
			if !p.Path || resolved[p.Name] == "" {
				continue
			}
			v, err := opt.ConfinePath(p.Name, resolved[p.Name])
			if err != nil {
				return nil, err
			}
			resolved[p.Name] = v
		}
	}
	steps, err := f.build(abs, resolved)
	if err == nil {
		err = derived
	}
	blocked, isBlocked := asBlocked(err)
	if err != nil && !isBlocked {
		return nil, err
	}
	p := &Plan{Flow: f.Name, Dir: abs, Params: resolved}
	if isBlocked {
		p.Blocked, p.BlockedFix = blocked, makePackHint
	}
	for i, s := range steps {
		if len(s.OKCodes) == 0 {
			s.OKCodes = []int{0}
		}
		ps := PlannedStep{Step: s, Number: i + 1, Command: Quote(s.Argv), Status: StatusPlanned}
		switch {
		case s.PrintOnly:
			ps.Status = StatusPrintOnly
		case s.skip != nil:
			if why, ok := s.skip(abs); ok {
				ps.Status, ps.SkipReason = StatusSkipped, why
			}
		}
		p.Steps = append(p.Steps, ps)
	}
	return p, nil
}

func (f *Flow) resolve(params map[string]string) (map[string]string, error) {
	out := map[string]string{}
	known := map[string]bool{}
	var names []string
	for _, p := range f.Params {
		known[p.Name] = true
		names = append(names, p.Name)
		if v, ok := params[p.Name]; ok {
			out[p.Name] = v
		} else {
			out[p.Name] = p.Default
		}
		if p.Required && strings.TrimSpace(out[p.Name]) == "" {
			return nil, exit.Bad(fmt.Sprintf("pass --param %s=... (%s)", p.Name, p.Help), "flow %s needs the param %q", f.Name, p.Name)
		}
	}
	for k := range params {
		if !known[k] {
			fix := "this flow takes no params"
			if len(names) > 0 {
				fix = "params of flow " + f.Name + ": " + strings.Join(names, ", ")
			}
			return nil, exit.Bad(fix, "unknown param %q for flow %s", k, f.Name)
		}
	}
	return out, nil
}

// ParseParams turns "k=v" strings into a map; a malformed one is bad input.
func ParseParams(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, exit.Bad("write it as --param key=value", "malformed param %q", kv)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, nil
}

// Quote renders argv as a command line a POSIX shell would read back as the
// same argv (for display and copy-paste only; steps never run in a shell).
func Quote(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = quoteArg(a)
	}
	return strings.Join(parts, " ")
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func exitBad(fix, format string, args ...any) error { return exit.Bad(fix, format, args...) }
