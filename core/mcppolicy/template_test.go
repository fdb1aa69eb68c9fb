package mcppolicy

import (
	"bytes"
	"strings"
	"testing"
)

func TestTemplateParses(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"my-server", "", `a "quoted": id # not a comment`, "multi\nline", "ünïcode", "yes", "123"} {
		p, err := Parse(Template(id), DefaultFile)
		if err != nil {
			t.Fatalf("Template(%q) does not parse: %v", id, err)
		}
		if p.ServerID != id || p.Mode != ModeAudit || p.Version != "1" || p.Tools.Default != Allow {
			t.Errorf("Template(%q): %+v", id, p)
		}
		// Flags stay in charge until the user sets these.
		if p.StoreArgs != nil || p.StoreResults != nil || p.AutoPack != nil || p.AuditDir != "" {
			t.Errorf("Template(%q) sets proxy options: %+v", id, p)
		}
	}
	b, err := TemplateWithMode("s", ModeEnforce)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := Parse(b, DefaultFile); err != nil || !p.Enforce() {
		t.Errorf("enforce template: %v %+v", err, p)
	}
	if _, err := TemplateWithMode("s", "strict"); err == nil {
		t.Error("unknown mode accepted")
	}
}

// TestTemplateExamplesWork uncomments every example in the template (the
// proxy options, tools and budget) and checks they parse and behave as the
// comments say.
func TestTemplateExamplesWork(t *testing.T) {
	t.Parallel()
	// The proxy options, then everything from "# tools:" to the end.
	var out []string
	examples := false
	for _, line := range strings.Split(string(Template("s")), "\n") {
		examples = examples || line == "# tools:"
		for _, k := range []string{"# store_args:", "# store_results:", "# auto_pack:", "# audit_dir:"} {
			if strings.HasPrefix(line, k) {
				line = line[2:]
			}
		}
		if examples && strings.HasPrefix(line, "#") {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		}
		out = append(out, line)
	}
	src := strings.Join(out, "\n")
	p, err := Parse([]byte(src), "uncommented.yaml")
	if err != nil {
		t.Fatalf("uncommented template does not parse: %v\n%s", err, src)
	}
	s := p.Summary()
	if s.DenyRules != 2 || s.AllowRules != 2 || s.Constraints != 1 || s.Budget.MaxToolCalls != 100 || s.Budget.MaxWallTimeSec != 3600 ||
		p.StoreArgs == nil || *p.StoreArgs || p.AutoPack == nil || !*p.AutoPack || p.AuditDir != ".assay/mcp" {
		t.Fatalf("uncommented template: %+v\n%s", s, src)
	}
	e := p.NewEvaluator(t0)
	for _, c := range []struct{ tool, args, reason string }{
		{"delete_file", `{}`, ReasonDenyList},
		{"db_admin", `{}`, ReasonDenyList},
		{"write_file", `{"content":"x","path":"/etc/passwd"}`, ReasonArgumentDenied},
		{"write_file", `{"action":"Delete","path":"/tmp/x"}`, ReasonArgumentDenied},
		{"write_file", `{"path":"/tmp/x"}`, ""},
		{"read_file", `{"path":"/etc/passwd"}`, ""},
	} {
		if d := e.Evaluate(c.tool, []byte(c.args), t0); d.Reason != c.reason {
			t.Errorf("%s %s: %+v, want reason %q", c.tool, c.args, d, c.reason)
		}
	}
}

func TestTemplateDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	tpl := Template("s")
	for _, keys := range [][]string{rootKeys, toolsKeys, constraintKeys, budgetKeys} {
		for _, k := range keys {
			if !bytes.Contains(tpl, []byte(k+":")) {
				t.Errorf("template does not show key %s", k)
			}
		}
	}
	for _, r := range []string{ReasonDenyList, ReasonNotInAllow, ReasonToolBudget, ReasonArgumentDenied, ReasonSessionBudget, ReasonSessionTimedOut} {
		if !bytes.Contains(tpl, []byte(r)) {
			t.Errorf("template does not name reason %s", r)
		}
	}
}
