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

// FlowPlanArgs are the arguments of run-flow on a server without
// --allow-exec: it only plans, so it has no apply argument.
type FlowPlanArgs struct {
	Flow   FlowName          `json:"flow"`
	Params map[string]string `json:"params,omitempty" jsonschema:"description=Flow parameters (see the flow's prompt or the plan)"`
	Dir    string            `json:"dir,omitempty" jsonschema:"description=Project directory the steps run in (default: the first root)"`
}

// FlowArgs are the arguments of run-flow on a server started with
// --allow-exec.
type FlowArgs struct {
	FlowPlanArgs
	Apply bool `json:"apply,omitempty" jsonschema:"description=Run the steps in order. Default false: return the plan only"`
}

// FlowResult is what run-flow returns: the document 'assay flow NAME
// --json' prints.
type FlowResult = flows.Doc

// flowTool is run-flow as the server's exec policy allows it: plan-only
// (read-only, no apply argument) without --allow-exec; able to run the
// steps (destructive, open world) with it.
func flowTool(allowExec bool) Tool {
	const name, title = "run-flow", "Plan or run a guided flow"
	if !allowExec {
		t := newTool(name, title,
			"Return the step plan of a guided flow (try, adopt, ci, mcp, audit): each step's title, why and command, as 'assay flow NAME --json' prints it. Nothing runs: this server was started without --allow-exec, so the user runs the steps.",
			Annotations{ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false},
			func(ctx context.Context, c *Call, a FlowPlanArgs) (*FlowResult, string, error) {
				return runFlow(ctx, c, flows.Request{Flow: string(a.Flow), Params: a.Params, Dir: a.Dir})
			})
		t.ArgHint = "apply needs a server started with --allow-exec; here run-flow only plans, so run the plan's commands yourself"
		return t
	}
	t := newTool(name, title,
		"Return the step plan of a guided flow (try, adopt, ci, mcp, audit); with apply=true run the steps in order and return each outcome, as 'assay flow NAME [--apply] --json' does.",
		Annotations{ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true},
		func(ctx context.Context, c *Call, a FlowArgs) (*FlowResult, string, error) {
			return runFlow(ctx, c, flows.Request{Flow: string(a.Flow), Params: a.Params, Dir: a.Dir, Apply: a.Apply})
		})
	// Its own schema files where they differ from the plan-only tool's.
	t.loadSchemas(name+".allow-exec", name)
	return t
}

func runFlow(ctx context.Context, c *Call, req flows.Request) (*FlowResult, string, error) {
	if req.Dir == "" {
		req.Dir = c.Server.roots.list()[0]
	}
	dir, err := c.Path(ctx, req.Dir)
	if err != nil {
		return nil, "", err
	}
	req.Dir = dir
	// Every path param (defaults and derived values included) is
	// confined to the roots like any other path argument, so a plan
	// (and, with --allow-exec, what runs) never names a path outside.
	plan, err := req.Plan(flows.PlanOptions{ConfinePath: func(name, v string) (string, error) {
		return c.Server.confineFlowPath(dir, name, v)
	}})
	if err != nil {
		return nil, "", err
	}
	var runner flows.Runner
	if req.Apply {
		if !c.Server.cfg.AllowExec {
			// Unreachable through the registered schema; kept as the guard.
			return nil, "", Failf("run-flow with apply=true executes commands, and this server was started without --allow-exec")
		}
		bin, err := assayBinary(c.Server.cfg.Env)
		if err != nil {
			return nil, "", err
		}
		runner = &flows.ExecRunner{Assay: bin, Env: c.Server.cfg.Env}
	}
	doc, outcome, err := flows.Execute(ctx, req, plan, runner)
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	if outcome != nil {
		flows.RenderOutcomeText(&b, outcome)
	} else {
		flows.RenderPlanText(&b, plan)
	}
	return doc, b.String(), nil
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
