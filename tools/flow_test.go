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
	e.fails("run-flow", map[string]any{"flow": "try", "apply": true}, "--allow-exec")
	e.fails("run-flow", map[string]any{"flow": "nope"}, "invalid arguments")
	e.fails("run-flow", map[string]any{"flow": "try", "dir": "/"}, "outside the allowed roots")
	e.fails("run-flow", map[string]any{"flow": "try", "params": map[string]any{"bogus": "1"}}, "bogus")
	// No pack yet: the plan is shown with a placeholder and how to make one.
	var p FlowResult
	if r := e.ok("run-flow", map[string]any{"flow": "audit"}, &p); !strings.Contains(text(r), "PACK is a placeholder") || p.Applied {
		t.Fatalf("audit without a pack: %s", text(r))
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
