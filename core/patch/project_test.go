package patch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/scan"
)

// TestPlanProjectChoosesLanguages: --lang auto plans each language that has
// uninstrumented call sites, an explicit entrypoint decides between Python
// and Node, and an explicit --lang plans that language only.
func TestPlanProjectChoosesLanguages(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"app.py":       "from openai import OpenAI\nclient = OpenAI()\nclient.chat.completions.create(model='gpt-4o', messages=[])\n",
		"package.json": `{"name":"x","main":"index.js"}`,
		"index.js":     "const OpenAI = require('openai');\nconst c = new OpenAI();\nc.chat.completions.create({model: 'gpt-4o', messages: []});\n",
	}
	root := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := scan.Scan(root, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		lang, entrypoint string
		want             string
	}{
		{"auto", "", "python,node"},
		{"auto", "app.py", "python"},
		{"auto", "index.js", "node"},
		{"python", "", "python"},
		{"node", "", "node"},
	}
	for _, tc := range cases {
		plans, err := PlanProject(root, res, tc.lang, tc.entrypoint)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.lang, tc.entrypoint, err)
		}
		var got []string
		for _, p := range plans {
			got = append(got, p.Language)
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("--lang %s --entrypoint %q planned %v, want %s", tc.lang, tc.entrypoint, got, tc.want)
		}
		r := NewReport(plans)
		if len(r.Files) == 0 || r.Plans == nil || (strings.Contains(tc.want, "python") != (r.Entrypoint != nil)) {
			t.Errorf("report for %s %q: files %v entrypoint %v", tc.lang, tc.entrypoint, r.Files, r.Entrypoint)
		}
	}
	if err := CheckLang("rust"); exit.Code(err) != exit.BadInput {
		t.Errorf("CheckLang(rust) = %v, want exit 3", err)
	}
	if r := NewReport(nil); r.Plans == nil || r.Files == nil || r.Frameworks == nil || r.LinesToInsert == nil {
		t.Errorf("an empty report has null lists: %+v", r)
	}
}
