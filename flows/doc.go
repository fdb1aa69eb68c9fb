package flows

import "context"

// Request is one flow operation, as `assay flow NAME [--apply]` and the MCP
// run-flow tool both ask for it.
type Request struct {
	Flow   string
	Params map[string]string
	// Dir is the project directory the steps run in ("" = ".").
	Dir string
	// Apply runs the steps; false returns the plan only.
	Apply bool
}

// Plan resolves the request's flow and params into a plan for Dir.
func (r Request) Plan(opt PlanOptions) (*Plan, error) {
	f, err := Get(r.Flow)
	if err != nil {
		return nil, err
	}
	return f.PlanWith(r.Dir, r.Params, opt)
}

// Execute returns the plan's document without Apply, else runs the steps
// and returns the outcome's. A blocked plan (a placeholder stands in for
// something that does not exist) is bad input when applied, in every front
// end: nothing runs.
// The outcome (nil for a plan) is for the text renderers.
func Execute(ctx context.Context, r Request, plan *Plan, runner Runner) (*Doc, *Outcome, error) {
	if !r.Apply {
		return NewPlanDoc(plan), nil, nil
	}
	if plan.Blocked != "" {
		return nil, nil, ErrBlocked(plan)
	}
	o := Apply(ctx, plan, runner)
	return NewOutcomeDoc(o), o, nil
}

// Doc is the one JSON document of a flow, planned (status dry_run) or
// applied (ok or failed): 'assay flow NAME --json' prints it and the MCP
// run-flow tool returns it.
type Doc struct {
	Command string            `json:"command"`
	Flow    string            `json:"flow"`
	Dir     string            `json:"dir"`
	Applied bool              `json:"applied"`
	Status  string            `json:"status" jsonschema:"enum=dry_run,enum=ok,enum=failed"`
	Params  map[string]string `json:"params,omitempty"`
	Steps   []DocStep         `json:"steps"`
	// FailedStep is the 1-based number of the step that failed, 0 if none;
	// FailedCommand and FailedExitCode repeat its command and exit code.
	FailedStep     int    `json:"failed_step,omitempty"`
	FailedCommand  string `json:"failed_command,omitempty"`
	FailedExitCode *int   `json:"failed_exit_code,omitempty"`
	// Blocked says why the plan cannot be applied yet; BlockedFix how to
	// make what is missing.
	Blocked    string `json:"blocked,omitempty"`
	BlockedFix string `json:"blocked_fix,omitempty"`
}

// DocStep is one step of a plan or of an applied flow.
type DocStep struct {
	Number     int      `json:"step"`
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Why        string   `json:"why,omitempty"`
	Command    string   `json:"command"`
	Argv       []string `json:"argv"`
	OKCodes    []int    `json:"ok_codes"`
	SkipRule   string   `json:"skip_rule,omitempty"`
	PrintOnly  bool     `json:"print_only,omitempty"`
	Status     string   `json:"status" jsonschema:"enum=planned,enum=skipped,enum=print_only,enum=ok,enum=failed,enum=not_run"`
	SkipReason string   `json:"skip_reason,omitempty"`
	ExitCode   *int     `json:"exit_code,omitempty"`
	DurationMS float64  `json:"duration_ms,omitempty"`
	StdoutTail string   `json:"stdout_tail,omitempty"`
	StderrTail string   `json:"stderr_tail,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// NewPlanDoc is the document of a dry run.
func NewPlanDoc(p *Plan) *Doc {
	d := &Doc{Command: "flow " + p.Flow, Flow: p.Flow, Dir: p.Dir, Status: "dry_run", Params: p.Params,
		Steps: []DocStep{}, Blocked: p.Blocked, BlockedFix: p.BlockedFix}
	for _, s := range p.Steps {
		d.Steps = append(d.Steps, DocStep{Number: s.Number, ID: s.ID, Title: s.Title, Why: s.Why, Command: s.Command,
			Argv: nonNilStrings(s.Argv), OKCodes: okCodes(s.OKCodes), SkipRule: s.SkipRule, PrintOnly: s.PrintOnly,
			Status: s.Status, SkipReason: s.SkipReason})
	}
	return d
}

// NewOutcomeDoc is the document of an applied flow.
func NewOutcomeDoc(o *Outcome) *Doc {
	d := &Doc{Command: "flow " + o.Flow, Flow: o.Flow, Dir: o.Dir, Applied: true, Status: o.Status, Steps: []DocStep{},
		FailedStep: o.FailedStep, FailedCommand: o.FailedCommand, FailedExitCode: o.FailedExitCode, Blocked: o.Blocked}
	for _, s := range o.Steps {
		d.Steps = append(d.Steps, DocStep{Number: s.Number, ID: s.ID, Title: s.Title, Command: s.Command,
			Argv: nonNilStrings(s.Argv), OKCodes: okCodes(s.OKCodes), Status: s.Status, SkipReason: s.SkipReason,
			ExitCode: s.ExitCode, DurationMS: s.DurationMS, StdoutTail: s.StdoutTail, StderrTail: s.StderrTail, Error: s.Error})
	}
	return d
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func okCodes(c []int) []int {
	if c == nil {
		return []int{0}
	}
	return c
}
