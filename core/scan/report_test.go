package scan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReportMathAndEscaping(t *testing.T) {
	t.Parallel()
	f := func(path, call, conf, fw string, inst bool) Finding {
		return Finding{Path: path, Line: 1, Call: call, Confidence: conf, Framework: fw, Instrumented: inst, Lang: "python"}
	}
	for _, tc := range []struct {
		name string
		fs   []Finding
		pct  float64
	}{
		{"one of three", []Finding{f("a.py", "c.chat.completions.create", High, "openai", true), f("b.py", "c.messages.create", High, "anthropic", false), f("c.py", "m.generate_content", High, "google", false)}, 33.3},
		{"low only", []Finding{f("a.py", "call_llm", Low, "", false)}, 0.0},
		{"none", nil, 100.0},
		{"langchain excluded", []Finding{f("a.py", "c.chat.completions.create", High, "openai", true), f("a.py", "chain.invoke", Medium, "langchain", false)}, 100.0},
	} {
		rep := BuildReport(&Result{Findings: tc.fs}, ReportMeta{})
		if rep.Summary.CoveragePct != tc.pct {
			t.Errorf("%s: coverage %v, want %v", tc.name, rep.Summary.CoveragePct, tc.pct)
		}
	}
	for path, want := range map[string]bool{
		"tests/a.py": true, "src/test/x.py": true, "pkg/test_api.py": true, "a_test.py": true, "x_test.go": true,
		"testing/u.py": true, "test_utils/h.py": true, "src/app.py": false, "contest.py": false, "attest/x.py": false,
	} {
		if IsTest(path) != want {
			t.Errorf("IsTest(%q) = %v", path, !want)
		}
	}
	for call, want := range map[string]string{
		"client.chat.completions.create": "openai", "ChatOpenAI": "openai", "c.messages.create": "anthropic",
		"litellm.completion": "litellm", "chain.invoke": "langchain", "client.responses.create": "other", "m.generate_content": "other",
	} {
		if got := Provider(Finding{Call: call}); got != want {
			t.Errorf("Provider(%q) = %q, want %q", call, got, want)
		}
	}

	// A hostile path cannot close the data block or inject markup.
	evil := `x</script><script>alert(1)</script>.py`
	rep := BuildReport(&Result{Findings: []Finding{f(evil, "c.chat.completions.create", High, "openai", false)}}, ReportMeta{RepoName: "<b>repo</b>"})
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if strings.Count(html, "</script>") != 2 || strings.Contains(html, "<b>repo</b>") || strings.Contains(html, "innerHTML") {
		t.Errorf("report not escaped:\n%s", html)
	}
	start := strings.Index(html, `id="report-data">`) + len(`id="report-data">`)
	end := strings.Index(html[start:], "</script>")
	var data map[string]any
	if err := json.Unmarshal([]byte(html[start:start+end]), &data); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	if got := data["findings"].([]any)[0].(map[string]any)["path"]; got != evil {
		t.Errorf("path round trip: %v", got)
	}
	for _, ext := range []string{"http://", "https://", "<link", " src="} {
		if strings.Contains(html, ext) {
			t.Errorf("external resource %q in the report", ext)
		}
	}
}
