package ciinit

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/assay-dev/assay/core/exit"
)

// lint runs actionlint (as a library, with its shellcheck rule when the
// shellcheck binary is installed) on a workflow and returns its findings.
func lint(t *testing.T, yaml []byte) []*actionlint.Error {
	t.Helper()
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc // scripts/setup.d installs it; then run: scripts are checked too
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint("<stdin>", yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func TestWorkflowPassesActionlint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    WorkflowOptions
	}{
		{"defaults (placeholder)", WorkflowOptions{}},
		{"custom command and cards", WorkflowOptions{RunCommand: "python   app.py  --mode 'fast run'", Cards: []string{"receipt_completeness,guardian_enforcement", "no_breakglass"}, Version: "0.1.0"}},
		{"custom lock and baseline", WorkflowOptions{RunCommand: "node app.js", Lock: "ci/assay.lock", Baseline: "evidence/proof_pack_base"}},
		{"custom secret", WorkflowOptions{RunCommand: "node app.js", Secret: "TEAM_ASSAY_KEY"}},
		{"gateway", WorkflowOptions{RunCommand: "python3 app.py", Gateway: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := RenderWorkflow(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range lint(t, w.YAML) {
				t.Errorf("actionlint: %s\n%s", e.Error(), w.YAML)
			}
		})
	}
}

// A broken workflow must be caught by the same lint call, or the test above
// proves nothing.
func TestActionlintCatchesBrokenWorkflow(t *testing.T) {
	t.Parallel()
	w, err := RenderWorkflow(WorkflowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(w.YAML), "runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    permissions:\n      security-events: bogus", 1)
	if len(lint(t, []byte(broken))) == 0 {
		t.Fatal("actionlint accepted an invalid permission value")
	}
}

func TestWorkflowContent(t *testing.T) {
	t.Parallel()
	w, err := RenderWorkflow(WorkflowOptions{RunCommand: "python  app.py", Cards: []string{"receipt_completeness,no_breakglass"}})
	if err != nil {
		t.Fatal(err)
	}
	y := string(w.YAML)
	for _, want := range []string{
		"actions/setup-go@v5",
		"go install " + InstallModule,
		"assay run -c receipt_completeness -c no_breakglass -o proof_pack_ci -- python app.py",
		"assay verify-pack proof_pack_ci --lock assay.lock --require-claim-pass",
		"assay diff proof_pack_baseline proof_pack_ci --gate-",
		"hashFiles('proof_pack_baseline/pack_manifest.json')",
		"actions/upload-artifact@v4",
		"path: proof_pack_ci/",
		"assay scan . --format sarif > assay-scan.sarif",
		"github/codeql-action/upload-sarif@v3",
		"security-events: write",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("workflow lacks %q", want)
		}
	}
	if strings.Contains(y, "TODO") || w.Placeholder {
		t.Error("a real run command must not leave the TODO")
	}
	if strings.Contains(y, "*") {
		t.Error("the workflow must name exact pack paths, never a glob")
	}
	p, _ := RenderWorkflow(WorkflowOptions{})
	if !p.Placeholder || !strings.Contains(string(p.YAML), "TODO") || p.RunCommand != DefaultRunCommand {
		t.Errorf("placeholder run command not flagged: %+v", p)
	}
}

func TestWorkflowBadInput(t *testing.T) {
	t.Parallel()
	for _, o := range []WorkflowOptions{
		{RunCommand: "python app.py\nrm -rf /"},
		{RunCommand: "echo ${{ github.event.issue.title }}"},
		// Operators would run the rest outside assay run, unrecorded.
		{RunCommand: "python app.py && echo done"},
		{RunCommand: "python app.py | tee log"},
		{RunCommand: "python app.py; true"},
		{RunCommand: "python app.py > out.txt"},
		{RunCommand: "python 'app.py"},
		{Cards: []string{"bad card"}},
		{Lock: "--x"},
		{Baseline: "a b"},
	} {
		if _, err := RenderWorkflow(o); exit.Code(err) != exit.BadInput {
			t.Errorf("%+v: want exit 3, got %v", o, err)
		}
	}
	// Quoted operators and shell variables stay plain arguments.
	for _, cmd := range []string{"python app.py --sep '|'", "python app.py --key $KEY"} {
		if _, err := RenderWorkflow(WorkflowOptions{RunCommand: cmd}); err != nil {
			t.Errorf("%q refused: %v", cmd, err)
		}
	}
}

func TestWriteWorkflowNeedsForce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ".github", "workflows", "assay-verify.yml")
	if err := WriteWorkflow(path, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	err := WriteWorkflow(path, []byte("two"), false)
	if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("overwrite without force: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Fatalf("file changed without --force: %q", b)
	}
	if err := WriteWorkflow(path, []byte("two"), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Fatalf("--force did not overwrite: %q", b)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
}

func TestMCPConfigRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range Clients {
		t.Run(string(c), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, c.ConfigPath())
			// An existing config with another server must keep it.
			os.MkdirAll(filepath.Dir(path), 0o755)
			other := `{"` + c.serversKey() + `": {"other": {"command": "x", "args": []}}, "inputs": [1]}`
			if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
				t.Fatal(err)
			}
			if ok, _ := HasAssayServer(path, c); ok {
				t.Fatal("assay entry reported before writing")
			}
			s, err := NewMCPServer(c, MCPServerBinary, []string{dir}, false)
			if err != nil {
				t.Fatal(err)
			}
			changed, err := WriteMCPConfig(path, c, s, false)
			if err != nil || !changed {
				t.Fatalf("write: %v %v", changed, err)
			}
			got, err := ReadMCPConfig(path, c)
			if err != nil || got == nil {
				t.Fatalf("read back: %v %v", got, err)
			}
			if got.Command != MCPServerBinary || len(got.Roots()) != 1 || got.Roots()[0] != dir || got.AllowExec() {
				t.Fatalf("entry: %+v", got)
			}
			if (c == ClientVSCode) != (got.Type == "stdio") {
				t.Fatalf("type field: %+v", got)
			}
			var doc map[string]map[string]any
			b, _ := os.ReadFile(path)
			_ = json.Unmarshal(b, &doc)
			if _, ok := doc[c.serversKey()]["other"]; !ok {
				t.Fatalf("other server lost: %s", b)
			}
			if !strings.Contains(string(b), `"inputs"`) {
				t.Fatalf("other keys lost: %s", b)
			}
			// Same entry again: no change. A different one needs force.
			if changed, err := WriteMCPConfig(path, c, s, false); err != nil || changed {
				t.Fatalf("rewrite same: %v %v", changed, err)
			}
			s2, _ := NewMCPServer(c, MCPServerBinary, []string{dir}, true)
			if _, err := WriteMCPConfig(path, c, s2, false); exit.Code(err) != exit.BadInput {
				t.Fatalf("different entry without force: %v", err)
			}
			if _, err := WriteMCPConfig(path, c, s2, true); err != nil {
				t.Fatal(err)
			}
			if got, _ := ReadMCPConfig(path, c); !got.AllowExec() {
				t.Fatal("--force did not replace the entry")
			}
		})
	}
}

func TestMCPConfigBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ".mcp.json")
	os.WriteFile(path, []byte("{not json"), 0o644)
	s, _ := NewMCPServer(ClientClaude, MCPServerBinary, []string{dir}, false)
	if _, err := WriteMCPConfig(path, ClientClaude, s, true); exit.Code(err) != exit.BadInput {
		t.Fatalf("unparseable config: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Fatal("an unparseable config was overwritten")
	}
	if _, err := NewMCPServer(ClientClaude, MCPServerBinary, []string{filepath.Join(dir, "missing")}, false); exit.Code(err) != exit.BadInput {
		t.Fatalf("missing root: %v", err)
	}
	if _, err := ParseClient("emacs"); exit.Code(err) != exit.BadInput {
		t.Fatalf("unknown client: %v", err)
	}
}

// The workflow signs with the team's key from a secret: imported from the
// environment (never a file), failing with the secret's name when it is
// missing; a secret name that is not one is refused.
func TestWorkflowSigningSecret(t *testing.T) {
	t.Parallel()
	w, err := RenderWorkflow(WorkflowOptions{RunCommand: "python3 app.py", Secret: "TEAM_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	y := string(w.YAML)
	for _, want := range []string{
		"TEAM_KEY: ${{ secrets.TEAM_KEY }}",
		"assay key import --private-env TEAM_KEY --signer ci --set-active",
		"::error::The repository secret TEAM_KEY is not set",
		"assay key export --secret | gh secret set TEAM_KEY",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("workflow lacks %q", want)
		}
	}
	if gw, _ := RenderWorkflow(WorkflowOptions{RunCommand: "python3 app.py", Gateway: true}); !strings.Contains(string(gw.YAML), "assay run -c receipt_completeness --gateway -o proof_pack_ci -- python3 app.py") {
		t.Errorf("gateway workflow:\n%s", gw.YAML)
	}
	if strings.Index(y, "--private-env") > strings.Index(y, "assay run ") {
		t.Error("the key is imported after the run that signs with it")
	}
	if strings.Contains(y, "ephemeral") || strings.Contains(y, "key generate") {
		t.Error("the workflow still makes its own key")
	}
	for _, bad := range []string{"lower", "GITHUB_TOKEN", "A-B", "X}} ${{ github.event"} {
		if _, err := RenderWorkflow(WorkflowOptions{Secret: bad}); exit.Code(err) != exit.BadInput {
			t.Errorf("secret %q: %v", bad, err)
		}
	}
}

// A config names assay-mcp by its command name, not the build directory it
// was found in, unless the full path is asked for.
func TestServerCommandPortable(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	exe := filepath.Join(bin, MCPServerBinary)
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notOnPath := t.TempDir()
	cmd, found, located := ServerCommandIn(notOnPath, filepath.Join(bin, "assay"), false)
	if cmd != MCPServerBinary || found || located != exe {
		t.Fatalf("default: %q %v %q", cmd, found, located)
	}
	if cmd, _, _ := ServerCommandIn(notOnPath, filepath.Join(bin, "assay"), true); cmd != exe {
		t.Fatalf("absolute: %q", cmd)
	}
	if cmd, found, _ := ServerCommandIn(bin, "", false); cmd != MCPServerBinary || !found {
		t.Fatalf("on PATH: %q %v", cmd, found)
	}
}
