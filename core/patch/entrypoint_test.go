package patch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/scan"
)

// The entrypoint rule: the __main__ module first (test files excluded;
// the one with most call sites, then shallowest), then [project.scripts],
// then scan's ranking.
func TestEntrypointRule(t *testing.T) {
	t.Parallel()
	guard := "import x\n\nif __name__ == \"__main__\":\n    main()\n"
	cases := []struct {
		name     string
		files    map[string]string
		counts   []scan.FileCount
		want     string
		wantRule string
	}{
		{"main guard beats the busiest module",
			map[string]string{"app.py": guard, "llm/client.py": "calls\n"},
			[]scan.FileCount{{Path: "llm/client.py", Count: 3}}, "app.py", RuleMain},
		{"package __main__",
			map[string]string{"pkg/__main__.py": "run()\n", "pkg/llm.py": "x\n"},
			[]scan.FileCount{{Path: "pkg/llm.py", Count: 2}}, "pkg/__main__.py", RuleMain},
		{"tests are not entrypoints",
			map[string]string{"tests/test_app.py": guard, "test_x.py": guard, "lib.py": "x\n"},
			[]scan.FileCount{{Path: "lib.py", Count: 1}}, "lib.py", RuleScanRank},
		{"several mains: the one with call sites",
			map[string]string{"a/tool.py": guard, "agent.py": guard},
			[]scan.FileCount{{Path: "agent.py", Count: 1}}, "agent.py", RuleMain},
		{"several mains: the shallowest",
			map[string]string{"deep/er/cli.py": guard, "z.py": guard},
			nil, "z.py", RuleMain},
		{"project.scripts",
			map[string]string{"pyproject.toml": "[project]\nname = \"x\"\n\n[project.scripts]\nmytool = \"mypkg.cli:main\"\n", "src/mypkg/cli.py": "def main(): pass\n", "mypkg_llm.py": "x\n"},
			[]scan.FileCount{{Path: "mypkg_llm.py", Count: 4}}, "src/mypkg/cli.py", RuleScripts},
		{"scan's ranking last",
			map[string]string{"one.py": "x\n", "two.py": "x\n"},
			[]scan.FileCount{{Path: "two.py", Count: 2}, {Path: "one.py", Count: 1}}, "two.py", RuleScanRank},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, body := range c.files {
				p := filepath.Join(root, rel)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte(body), 0o644)
			}
			got, rule := chooseEntrypoint(root, c.counts)
			if got != c.want || rule != c.wantRule {
				t.Fatalf("got %s (%s), want %s (%s)", got, rule, c.want, c.wantRule)
			}
		})
	}
}
