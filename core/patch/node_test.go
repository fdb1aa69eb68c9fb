package patch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/scan"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, s := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const oaCall = "const OpenAI = require('openai');\nnew OpenAI().chat.completions.create({ model: 'm', messages: [] });\n"

// Entrypoints come from package.json main, bin or scripts.start (built
// output mapped back to its TS source); the inserted line matches the
// module system; it goes after a shebang and directives.
func TestPlanNodeEntrypoints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		entry string
		line  string
		at    int
	}{
		{"main commonjs", map[string]string{"package.json": `{"main":"index.js"}`, "index.js": "'use strict';\n" + oaCall}, "index.js", "require('./assay_capture.cjs'); // assay:patched", 1},
		{"bin with shebang", map[string]string{"package.json": `{"bin":{"tool":"cli.js"}}`, "cli.js": "#!/usr/bin/env node\n" + oaCall}, "cli.js", "require('./assay_capture.cjs'); // assay:patched", 1},
		{"esm module type", map[string]string{"package.json": `{"type":"module","main":"app.js"}`, "app.js": "import OpenAI from 'openai';\nawait new OpenAI().responses.create({});\n"}, "app.js", "import './assay_capture.mjs'; // assay:patched", 0},
		{"start script tsx", map[string]string{"package.json": `{"scripts":{"start":"tsx watch src/main.ts --port 3"}}`, "src/main.ts": "import OpenAI from 'openai';\nnew OpenAI().responses.create({});\n"}, "src/main.ts", "import './assay_capture.cjs'; // assay:patched", 0},
		{"dist main to src", map[string]string{"package.json": `{"type":"module","main":"dist/index.js"}`, "src/index.ts": "'use client';\nimport OpenAI from 'openai';\nnew OpenAI().responses.create({});\n"}, "src/index.ts", "import './assay_capture.mjs'; // assay:patched", 1},
		{"mjs", map[string]string{"package.json": `{"main":"server.mjs"}`, "server.mjs": "import OpenAI from 'openai';\nawait new OpenAI().responses.create({});\n"}, "server.mjs", "import './assay_capture.mjs'; // assay:patched", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			res, err := scan.Scan(dir, scan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := PlanNode(res, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Entrypoint != filepath.ToSlash(tc.entry) || len(p.LinesToInsert) != 1 || p.LinesToInsert[0] != tc.line || p.InsertionLine != tc.at {
				t.Fatalf("plan %+v", p)
			}
			if err := Apply(p, NodeChecker(p)); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, tc.entry))
			if strings.Split(string(got), "\n")[tc.at] != tc.line {
				t.Errorf("patched:\n%s", got)
			}
			// Scanning again: instrumented, and a second plan changes nothing.
			res, _ = scan.Scan(dir, scan.Options{})
			for _, f := range res.Findings {
				if !f.Instrumented {
					t.Errorf("still uninstrumented: %+v", f)
				}
			}
			again, err := PlanNode(res, tc.entry)
			if err != nil || !again.Empty() || !again.AlreadyPatched {
				t.Errorf("second plan: %v %+v", err, again)
			}
			if _, err := Undo(dir, ""); err != nil {
				t.Fatal(err)
			}
			back, _ := os.ReadFile(filepath.Join(dir, tc.entry))
			if string(back) != tc.files[filepath.ToSlash(tc.entry)] {
				t.Errorf("undo:\n%s", back)
			}
			for _, m := range []string{NodeModuleCJS, NodeModuleESM} {
				if _, err := os.Stat(filepath.Join(dir, filepath.Dir(tc.entry), m)); err == nil {
					t.Errorf("%s left after undo", m)
				}
			}
		})
	}
}

// A module file of the same name that is not ours is never overwritten.
func TestPlanNodeRefusesForeignModule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"package.json": `{"main":"index.js"}`, "index.js": oaCall, NodeModuleCJS: "module.exports = 1;\n"})
	res, _ := scan.Scan(dir, scan.Options{})
	if _, err := PlanNode(res, ""); err == nil || !strings.Contains(err.Error(), "not assay's capture module") {
		t.Fatalf("err %v", err)
	}
}

// The patched CommonJS program still runs (node executes the module).
func TestNodeModuleLoads(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required: %v", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"package.json": `{"main":"index.js"}`, "index.js": "console.log(typeof require('./assay_capture.cjs').canon);\n"})
	os.WriteFile(filepath.Join(dir, NodeModuleCJS), renderNodeModule(nodeModuleCJS, dir, dir), 0o644)
	out, err := exec.Command(node, filepath.Join(dir, "index.js")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "function" {
		t.Fatalf("%v: %s", err, out)
	}
}
