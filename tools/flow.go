package tools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/invopop/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/runner"
	"github.com/assay-dev/assay/flows"
)

// FlowName is the name of a guided flow.
type FlowName string

// JSONSchema lists the flows.
func (FlowName) JSONSchema() *jsonschema.Schema {
	var names []any
	for _, n := range flows.Names() {
		names = append(names, n)
	}
	return &jsonschema.Schema{Type: "string", Enum: names, Description: "Guided flow"}
}

// FlowArgs are the arguments of run-flow.
type FlowArgs struct {
	Flow   FlowName          `json:"flow"`
	Params map[string]string `json:"params,omitempty" jsonschema:"description=Flow parameters (see the flow's prompt or the plan)"`
	Dir    string            `json:"dir,omitempty" jsonschema:"description=Project directory the steps run in (default: the first root)"`
	Apply  bool              `json:"apply,omitempty" jsonschema:"description=Run the steps (needs the server started with --allow-exec). Default false: return the plan only"`
}

// FlowStep is one step of a plan or of an applied flow.
type FlowStep struct {
	Number     int    `json:"step"`
	ID         string `json:"id"`
	Title      string `json:"title"`
	Why        string `json:"why,omitempty"`
	Command    string `json:"command"`
	Status     string `json:"status" jsonschema:"enum=planned,enum=skipped,enum=print_only,enum=ok,enum=failed,enum=not_run"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	SkipReason string `json:"skip_reason,omitempty"`
	StdoutTail string `json:"stdout_tail,omitempty"`
	StderrTail string `json:"stderr_tail,omitempty"`
	Error      string `json:"error,omitempty"`
}

// FlowResult is what run-flow returns.
type FlowResult struct {
	Flow       string     `json:"flow"`
	Dir        string     `json:"dir"`
	Applied    bool       `json:"applied"`
	Status     string     `json:"status" jsonschema:"enum=dry_run,enum=ok,enum=failed"`
	Steps      []FlowStep `json:"steps"`
	FailedStep int        `json:"failed_step,omitempty"`
}

// flowTail bounds each step's output tail in results.
const flowTail = 1024

func flowTool() Tool {
	return newTool("run-flow", "Plan or run a guided flow",
		"Return the step plan of a guided flow (try, adopt, ci, mcp, audit); with apply=true run the steps in order and return each outcome (only if the server allows exec).",
		Annotations{ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true},
		func(ctx context.Context, c *Call, a FlowArgs) (FlowResult, string, error) {
			f, err := flows.Get(string(a.Flow))
			if err != nil {
				return FlowResult{}, "", err
			}
			if a.Dir == "" {
				a.Dir = c.Server.roots.list()[0]
			}
			dir, err := c.Path(ctx, a.Dir)
			if err != nil {
				return FlowResult{}, "", err
			}
			// Every path param (defaults and derived values included) is
			// confined to the roots like any other path argument, so a plan
			// (and, with --allow-exec, what runs) never names a path outside.
			plan, err := f.PlanWith(dir, a.Params, flows.PlanOptions{ConfinePath: func(name, v string) (string, error) {
				return c.Server.confineFlowPath(dir, name, v)
			}})
			if err != nil {
				return FlowResult{}, "", err
			}
			res := FlowResult{Flow: plan.Flow, Dir: plan.Dir, Status: "dry_run", Steps: []FlowStep{}}
			if !a.Apply {
				for _, s := range plan.Steps {
					res.Steps = append(res.Steps, FlowStep{Number: s.Number, ID: s.ID, Title: s.Title, Why: s.Why, Command: s.Command, Status: s.Status, SkipReason: s.SkipReason})
				}
				var b bytes.Buffer
				flows.RenderPlanText(&b, plan)
				return res, b.String(), nil
			}
			if !c.Server.cfg.AllowExec {
				return FlowResult{}, "", Failf("run-flow with apply=true executes commands, and this server was started without --allow-exec; call it with apply=false for the plan and ask the user to run the steps, or to restart assay-mcp with --allow-exec")
			}
			bin, err := assayBinary(c.Server.cfg.Env)
			if err != nil {
				return FlowResult{}, "", err
			}
			out := flows.Apply(ctx, plan, &flows.ExecRunner{Assay: bin, Env: c.Server.cfg.Env})
			res.Applied, res.Status, res.FailedStep = true, out.Status, out.FailedStep
			for _, s := range out.Steps {
				res.Steps = append(res.Steps, FlowStep{Number: s.Number, ID: s.ID, Title: s.Title, Command: s.Command, Status: s.Status,
					ExitCode: s.ExitCode, SkipReason: s.SkipReason, StdoutTail: tail(s.StdoutTail), StderrTail: tail(s.StderrTail), Error: s.Error})
			}
			var b bytes.Buffer
			flows.RenderOutcomeText(&b, out)
			return res, b.String(), nil
		})
}

// confineFlowPath resolves a flow's path param inside the roots (through
// os.Root semantics: no `..` or symlink out). The steps get the resolved
// path, relative to the flow's directory when inside it (so files such as
// a CI workflow stay portable), else absolute; never one that starts with
// "-", which a step would read as a flag.
func (s *Server) confineFlowPath(dir, name, v string) (string, error) {
	real, err := s.roots.resolveIn(dir, v)
	if err != nil {
		return "", Failf("flow param %s: %v", name, err)
	}
	if within(dir, real) {
		rel, err := filepath.Rel(dir, real)
		if err == nil {
			if strings.HasPrefix(rel, "-") {
				rel = "." + string(filepath.Separator) + rel
			}
			return rel, nil
		}
	}
	return real, nil
}

func tail(s string) string {
	if len(s) <= flowTail {
		return s
	}
	return "…" + s[len(s)-flowTail:]
}

// assayBinary is the assay CLI the flow steps run: $ASSAY_BIN of env, else
// this executable when it is assay itself, else assay next to assay-mcp,
// else assay on env's PATH.
func assayBinary(env []string) (string, error) {
	if b := lookupEnv(env, flows.EnvAssayBin); b != "" {
		return b, nil
	}
	exe, err := os.Executable()
	if err == nil {
		if filepath.Base(exe) == "assay" {
			return exe, nil
		}
		if sib := filepath.Join(filepath.Dir(exe), "assay"); exists(sib) {
			return sib, nil
		}
	}
	if p, err := runner.Resolve("assay", env); err == nil && filepath.IsAbs(p) {
		return p, nil
	}
	return "", Failf("the assay CLI was not found next to assay-mcp or on PATH; install it (go install ./cmd/assay) or set %s", flows.EnvAssayBin)
}

// addPrompts registers one prompt per guided flow.
func (s *Server) addPrompts() {
	for _, name := range flows.Names() {
		f, err := flows.Get(name)
		if err != nil {
			continue
		}
		opts := []mcp.PromptOption{mcp.WithPromptDescription(f.Summary)}
		for _, p := range f.Params {
			aopts := []mcp.ArgumentOption{mcp.ArgumentDescription(p.Help)}
			if p.Required {
				aopts = append(aopts, mcp.RequiredArgument())
			}
			opts = append(opts, mcp.WithArgument(p.Name, aopts...))
		}
		s.MCP.AddPrompt(mcp.NewPrompt("flow-"+name, opts...), s.flowPrompt(f))
	}
}

func (s *Server) flowPrompt(f *flows.Flow) func(context.Context, mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	return func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		params := map[string]string{}
		for k, v := range req.Params.Arguments {
			if v != "" {
				params[k] = v
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Guide me through the assay %q flow: %s.\n\n", f.Name, f.Summary)
		fmt.Fprintf(&b, "1. Call the run-flow tool with flow=%q", f.Name)
		if len(params) > 0 {
			fmt.Fprintf(&b, " and params=%s", jsonString(params))
		}
		b.WriteString(" and apply=false, and show me the plan: each step's title, why, and command.\n")
		b.WriteString("2. Ask me before running anything. If I agree, call run-flow again with apply=true (the server must allow exec; otherwise give me the commands to run myself).\n")
		b.WriteString("3. Report each step's outcome; if a step fails, show its exit code, command and output tail, and suggest the fix.\n")
		if len(f.Params) > 0 {
			b.WriteString("\nParameters:\n")
			for _, p := range f.Params {
				req := ""
				if p.Required {
					req = " (required)"
				}
				fmt.Fprintf(&b, "- %s%s: %s\n", p.Name, req, p.Help)
			}
		}
		return mcp.NewGetPromptResult(f.Summary, []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(b.String()))}), nil
	}
}
