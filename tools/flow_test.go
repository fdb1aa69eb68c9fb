package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/flows"
)

func TestRunFlowPlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var p FlowResult
	r := e.ok("run-flow", map[string]any{"flow": "try"}, &p)
	if p.Applied || p.Status != "dry_run" || p.Dir != e.root || len(p.Steps) == 0 {
		t.Fatalf("plan %+v", p)
	}
	for _, s := range p.Steps {
		if s.Command == "" || (s.Status != flows.StatusPlanned && s.Status != flows.StatusSkipped && s.Status != flows.StatusPrintOnly) {
			t.Fatalf("step %+v", s)
		}
	}
	if !strings.Contains(text(r), p.Steps[0].Command) {
		t.Fatalf("summary does not show the commands: %s", text(r))
	}
	// Planning executes nothing: the try flow's packs are not there.
	var again FlowResult
	e.ok("run-flow", map[string]any{"flow": "try"}, &again)
	if len(again.Steps) != len(p.Steps) {
		t.Fatalf("plan changed between dry runs")
	}
}

func TestRunFlowErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// Without --allow-exec run-flow is registered plan-only: apply is not
	// an argument at all.
	e.fails("run-flow", map[string]any{"flow": "try", "apply": true}, "additional properties 'apply' not allowed")
	e.fails("run-flow", map[string]any{"flow": "nope"}, "invalid arguments")
	e.fails("run-flow", map[string]any{"flow": "try", "dir": "/"}, "outside the allowed roots")
	e.fails("run-flow", map[string]any{"flow": "try", "params": map[string]any{"bogus": "1"}}, "bogus")
	// No pack yet: the plan is shown with a placeholder and how to make one.
	var p FlowResult
	if r := e.ok("run-flow", map[string]any{"flow": "audit"}, &p); !strings.Contains(text(r), "PACK is a placeholder") || p.Applied {
		t.Fatalf("audit without a pack: %s", text(r))
	}
}

// run-flow is annotated for what it can do: plan-only and read-only
// without --allow-exec; with it, the apply argument and destructive,
// open-world hints.
func TestRunFlowRegistrations(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		e := newEnv(t, func(c *Config) { c.AllowExec = allow })
		lt, err := e.cli.ListTools(context.Background(), mcp.ListToolsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var rf *mcp.Tool
		for i := range lt.Tools {
			if lt.Tools[i].Name == "run-flow" {
				rf = &lt.Tools[i]
			}
		}
		if rf == nil {
			t.Fatalf("allow-exec %v: run-flow not listed", allow)
		}
		_, hasApply := rf.InputSchema.Properties["apply"]
		a := rf.Annotations
		if hasApply != allow || *a.ReadOnlyHint == allow || *a.DestructiveHint != allow || *a.OpenWorldHint != allow || *a.IdempotentHint == allow {
			t.Errorf("allow-exec %v: apply in schema %v, hints read-only %v destructive %v open-world %v idempotent %v",
				allow, hasApply, *a.ReadOnlyHint, *a.DestructiveHint, *a.OpenWorldHint, *a.IdempotentHint)
		}
	}
}

func TestFlowPrompts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	lp, err := e.cli.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Prompts) != len(flows.Names()) {
		t.Fatalf("%d prompts for %d flows", len(lp.Prompts), len(flows.Names()))
	}
	gp := mcp.GetPromptRequest{}
	gp.Params.Name = "flow-audit"
	gp.Params.Arguments = map[string]string{"pack": "proof_pack_x"}
	res, err := e.cli.GetPrompt(context.Background(), gp)
	if err != nil {
		t.Fatal(err)
	}
	msg := res.Messages[0].Content.(mcp.TextContent).Text
	if !strings.Contains(msg, `flow="audit"`) || !strings.Contains(msg, "proof_pack_x") || !strings.Contains(msg, "apply=false") {
		t.Fatalf("prompt %s", msg)
	}
}
