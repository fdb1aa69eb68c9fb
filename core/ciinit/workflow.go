// Package ciinit writes the files that wire assay into a project's
// surroundings: the GitHub Actions workflow (`assay ci init github`) and the
// MCP client config that registers assay-mcp (`assay start mcp --write`).
// It computes file contents and writes them atomically; it never prints.
package ciinit

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/mattn/go-shellwords"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Defaults shared by `assay ci init`, `assay flow ci` and `assay doctor`.
const (
	DefaultWorkflowPath = ".github/workflows/assay-verify.yml"
	DefaultRunCommand   = "python3 app.py"
	DefaultCard         = "receipt_completeness"
	DefaultLock         = "assay.lock"
	DefaultBaselinePack = "proof_pack_baseline"
	// CIPack is where the workflow's run writes its pack: one exact path, so
	// verify, diff and the artifact upload never depend on a glob.
	CIPack = "proof_pack_ci"
	// InstallModule is what the workflow `go install`s.
	InstallModule = "github.com/assay-dev/assay/cmd/assay@latest"
	// SARIFFile is the scan output the workflow uploads to code scanning.
	SARIFFile = "assay-scan.sarif"
	// DefaultSecret is the repository secret holding the team's signing key
	// ('assay key export --secret'); the workflow imports it from the
	// environment, so CI packs are signed by the key the lock pins.
	DefaultSecret = "ASSAY_SIGNING_KEY"
	// CISigner is the id the workflow stores the imported key under.
	CISigner = "ci"
	// GateReportFile is the readiness-score gate's report the workflow
	// uploads (the reference's name).
	GateReportFile = "assay_gate_report.json"
)

// SecretExportCommand is the one command that puts the active signing key
// into the repository secret the workflow reads.
func SecretExportCommand(secret string) string {
	if secret == "" {
		secret = DefaultSecret
	}
	return "assay key export --secret | gh secret set " + secret
}

// WorkflowOptions are the inputs of the generated workflow.
type WorkflowOptions struct {
	// RunCommand is the program CI runs under `assay run`; empty means the
	// placeholder DefaultRunCommand (the workflow then carries a TODO).
	RunCommand string
	// Cards become repeated -c flags; empty means DefaultCard.
	Cards []string
	// Lock is the lock file verify-pack checks against.
	Lock string
	// Baseline is the committed pack `assay diff` gates against; the gate
	// step only runs when it exists.
	Baseline string
	// Version is the generating assay's version, written in the header.
	Version string
	// Secret names the repository secret with the signing key; empty means
	// DefaultSecret.
	Secret string
	// Gateway records the program's LLM SDK calls through assay's
	// recording gateway (assay run --gateway) instead of patched code.
	Gateway bool
	// MinScore is the readiness score the gate job requires (0..100; the
	// reference's default 0 only records the score).
	MinScore float64
}

// Workflow is a rendered workflow plus what went into it.
type Workflow struct {
	YAML        []byte   `json:"-"`
	RunCommand  string   `json:"run_command"`
	Cards       []string `json:"cards"`
	Placeholder bool     `json:"placeholder"`
	Lock        string   `json:"lock"`
	Baseline    string   `json:"baseline"`
	Pack        string   `json:"pack"`
	SARIF       string   `json:"sarif"`
	Secret      string   `json:"secret"`
	Gateway     bool     `json:"gateway"`
	MinScore    float64  `json:"min_score"`
	// GateReport is the file the gate job writes and uploads.
	GateReport string `json:"gate_report"`
}

var secretPattern = lazyre.New(`^[A-Z_][A-Z0-9_]*$`)

var cardPattern = lazyre.New(`^[A-Za-z0-9._/-]+$`)

// ParseCards splits a comma-separated card list (blank entries dropped).
func ParseCards(s string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !cardPattern().MatchString(c) {
			return nil, exit.Bad("name a built-in card or a card file path", "card %q has characters a workflow cannot carry safely", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// safePath matches paths we put into workflow YAML and shell lines unquoted.
var safePath = lazyre.New(`^[A-Za-z0-9._/-]+$`)

// RenderWorkflow builds the GitHub Actions workflow. The run command is
// collapsed to single spaces; newlines and `${{` (expression injection into
// the workflow) are refused as bad input.
func RenderWorkflow(o WorkflowOptions) (*Workflow, error) {
	w := &Workflow{Lock: o.Lock, Baseline: o.Baseline, Pack: CIPack, SARIF: SARIFFile, Secret: o.Secret, MinScore: o.MinScore, GateReport: GateReportFile}
	if math.IsNaN(o.MinScore) || o.MinScore < 0 || o.MinScore > 100 {
		return nil, exit.Bad("give a score between 0 and 100, e.g. --min-score 70", "--min-score must be within 0..100, got %v", o.MinScore)
	}
	if w.Secret == "" {
		w.Secret = DefaultSecret
	}
	if !secretPattern().MatchString(w.Secret) || strings.HasPrefix(w.Secret, "GITHUB_") {
		return nil, exit.Bad("use upper-case letters, digits and _ (not starting with GITHUB_)", "--secret %q is not a GitHub secret name", w.Secret)
	}
	if w.Lock == "" {
		w.Lock = DefaultLock
	}
	if w.Baseline == "" {
		w.Baseline = DefaultBaselinePack
	}
	for name, p := range map[string]string{"--lock": w.Lock, "--baseline": w.Baseline} {
		if !safePath().MatchString(p) || strings.HasPrefix(p, "-") {
			return nil, exit.Bad("use a plain relative path", "%s %q is not a plain path", name, p)
		}
	}
	if strings.ContainsAny(o.RunCommand, "\r\n") || strings.Contains(o.RunCommand, "${{") {
		return nil, exit.Bad("give a one-line command without ${{ }} expressions", "--run-command %q cannot go into a workflow safely", o.RunCommand)
	}
	// The command follows 'assay run ... --' in a shell line: an operator
	// (&&, |, ;, >) would run the rest outside assay run, unrecorded.
	if sp := shellwords.NewParser(); strings.TrimSpace(o.RunCommand) != "" {
		if _, err := sp.Parse(o.RunCommand); err != nil || sp.Position >= 0 {
			return nil, exit.Bad("give one program and its arguments; put pipelines and && chains in a script and run that", "--run-command %q uses shell operators, so part of it would run outside 'assay run'", o.RunCommand)
		}
	}
	w.RunCommand = strings.Join(strings.Fields(o.RunCommand), " ")
	if w.RunCommand == "" {
		w.RunCommand, w.Placeholder = DefaultRunCommand, true
	}
	for _, c := range o.Cards {
		cs, err := ParseCards(c)
		if err != nil {
			return nil, err
		}
		w.Cards = append(w.Cards, cs...)
	}
	if len(w.Cards) == 0 {
		w.Cards = []string{DefaultCard}
	}
	var cflags []string
	for _, c := range w.Cards {
		cflags = append(cflags, "-c "+c)
	}
	if o.Gateway {
		w.Gateway = true
		cflags = append(cflags, "--gateway")
	}
	var buf bytes.Buffer
	err := workflowTmpl().Execute(&buf, map[string]any{
		"Version": o.Version, "Run": w.RunCommand, "Placeholder": w.Placeholder,
		"CardFlags": strings.Join(cflags, " "), "Lock": w.Lock, "Baseline": w.Baseline,
		"Pack": CIPack, "SARIF": SARIFFile, "Install": InstallModule,
		"Secret": w.Secret, "Signer": CISigner, "Export": SecretExportCommand(w.Secret),
		"MinScore": strconv.FormatFloat(o.MinScore, 'f', -1, 64), "GateReport": GateReportFile,
	})
	if err != nil {
		return nil, fmt.Errorf("render workflow: %w", err)
	}
	w.YAML = buf.Bytes()
	return w, nil
}

// WriteWorkflow writes data to path atomically, creating parent
// directories. An existing file is refused (exit 3, nothing written) unless
// force is set.
func WriteWorkflow(path string, data []byte, force bool) error {
	return fsutil.WriteNew(path, data, force)
}

// The workflow: one job imports the team's signing key from a secret, runs
// the program under assay, verifies its pack
// against the lock, gates with diff and uploads the pack; a second job scans
// for uninstrumented call sites and uploads SARIF to code scanning. The run
// command goes into a block scalar so YAML never reinterprets it.
// Parsed on first use: at init, every start of a binary linking this
// package paid for it.
var workflowTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("wf").Parse(`# Generated by assay ci init github{{if .Version}} (assay {{.Version}}){{end}}.
# Review it, commit it and push. Exit codes of every assay step:
# 0 ok, 1 honest failure (claims or gates failed), 2 tampered, 3 bad input.
name: Assay Verify

on:
  pull_request:
  push:
    branches: [main]

permissions:
  contents: read

jobs:
  assay-verify:
    name: Run, verify and gate evidence
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: stable
          cache: false
      - name: Install assay
        run: go install {{.Install}}
      # Packs are signed with the team's key (the one {{.Lock}} pins), imported
      # from a repository secret into the runner's keystore; no key file is
      # written into the checkout. Create the secret once with:
      #   {{.Export}}
      - name: Import the team's signing key
        env:
          {{.Secret}}: ${{"{{"}} secrets.{{.Secret}} {{"}}"}}
        run: |
          if [ -z "${{"{"}}{{.Secret}}:-{{"}"}}" ]; then
            echo "::error::The repository secret {{.Secret}} is not set, so this run cannot sign with the key {{.Lock}} pins. Create it with: {{.Export}}"
            exit 1
          fi
          assay key import --private-env {{.Secret}} --signer {{.Signer}} --set-active
      # Install your project's dependencies here (e.g. pip install -r requirements.txt).
{{- if .Placeholder}}
      # TODO: replace the placeholder command below with the program CI should run.
{{- end}}
      - name: Run the program under assay
        run: |
          assay run {{.CardFlags}} -o {{.Pack}} -- {{.Run}}
      - name: Verify the pack against the lock
        run: assay verify-pack {{.Pack}} --lock {{.Lock}} --require-claim-pass
      - name: Gate against the baseline pack
        if: hashFiles('{{.Baseline}}/pack_manifest.json') != ''
        run: assay diff {{.Baseline}} {{.Pack}} --gate-cost-pct 25 --gate-p95-pct 50 --gate-errors 0
      - name: Upload the proof pack
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: assay-proof-pack
          path: {{.Pack}}/
          if-no-files-found: warn

  assay-scan:
    name: Scan for uninstrumented LLM calls
    runs-on: ubuntu-latest
    permissions:
      actions: read
      contents: read
      security-events: write
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: stable
          cache: false
      - name: Install assay
        run: go install {{.Install}}
      - name: Scan call sites (SARIF)
        run: assay scan . --format sarif > {{.SARIF}}
      - name: Upload scan results to code scanning
        if: always() && hashFiles('{{.SARIF}}') != ''
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: {{.SARIF}}
          category: assay-scan

  # The reference's readiness gate (runtime.md §5): the score of the repository
  # ('assay score'), failing below the minimum or below a committed baseline
  # (.assay/score-baseline.json, written by 'assay gate save-baseline').
  assay-gate:
    name: Gate on the evidence readiness score
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: stable
          cache: false
      - name: Install assay
        run: go install {{.Install}}
{{- if eq .MinScore "0"}}
      # The minimum is 0, so this only records the score: raise --min-score once it is stable.
{{- end}}
      - name: Check the readiness score
        run: assay gate check . --min-score {{.MinScore}} --fail-on-regression --save-report {{.GateReport}} --verbose
      - name: Upload the gate report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: assay-gate-report
          path: {{.GateReport}}
          if-no-files-found: warn
`))
})
