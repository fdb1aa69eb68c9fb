package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/coverage"
)

// One scan of a tree with Python, Go and TypeScript call sites: the
// contract lists all three with the one callsite_id formula, the report
// and SARIF say which language each site is in, and coverage splits by
// language.
func TestMixedLanguageContract(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"app.py":       "import openai\nc = openai.OpenAI()\nc.chat.completions.create(model='m', messages=[])\n",
		"svc/main.go":  "package main\n\nimport (\n\t\"context\"\n\n\t\"github.com/openai/openai-go\"\n)\n\nfunc main() {\n\tc := openai.NewClient()\n\tc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{})\n}\n",
		"web/index.ts": "import OpenAI from 'openai';\nconst c = new OpenAI();\n\nawait c.responses.create({ model: 'm', input: 'i' });\n",
	}
	for p, src := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Scan(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := res.Contract(ContractOptions{}, time.Unix(0, 0))
	want := map[string]int{"app.py": 3, filepath.Join("svc", "main.go"): 11, filepath.Join("web", "index.ts"): 4}
	if len(c.CallSites) != 3 {
		t.Fatalf("contract sites %+v", c.CallSites)
	}
	for _, s := range c.CallSites {
		if want[s.Path] != s.Line || s.CallsiteID != coverage.CallsiteID(s.Path, s.Line) {
			t.Errorf("site %+v", s)
		}
	}
	rep := BuildReport(res, ReportMeta{})
	langs := map[string]string{}
	for _, f := range rep.Findings {
		langs[f.Path] = f.Lang
	}
	if langs["app.py"] != "python" || langs[filepath.Join("svc", "main.go")] != "go" || langs[filepath.Join("web", "index.ts")] != "typescript" {
		t.Errorf("report languages %v", langs)
	}
	html, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `["lang","Language"]`) {
		t.Error("HTML report has no language column")
	}
	b, _ := json.Marshal(res.SARIF("test"))
	for _, l := range []string{`"language":"python"`, `"language":"go"`, `"language":"typescript"`} {
		if !strings.Contains(string(b), l) {
			t.Errorf("SARIF lacks %s", l)
		}
	}
	// Coverage splits by language: only the TS site was seen at run time.
	ts := c.CallSites[2]
	if ts.Path != filepath.Join("web", "index.ts") {
		t.Fatalf("order %+v", c.CallSites)
	}
	m := coverage.Measure(c, []string{ts.CallsiteID})
	got, _ := json.Marshal(m.ByLanguage)
	if string(got) != `[{"language":"python","covered":0,"total":1},{"language":"go","covered":0,"total":1},{"language":"typescript","covered":1,"total":1}]` {
		t.Errorf("by language %s", got)
	}
	// A Python-only contract has no split (the reference's JSON).
	py := *c
	py.CallSites = c.CallSites[:1]
	if m := coverage.Measure(&py, nil); m.ByLanguage != nil {
		t.Errorf("python-only by_language %+v", m.ByLanguage)
	}
}
