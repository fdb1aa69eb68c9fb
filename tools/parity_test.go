package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/diff"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
	"github.com/assay-dev/assay/core/verify/verifytest"
	"github.com/assay-dev/assay/flows"
	"github.com/assay-dev/assay/schemas/schematest"
)

// The CLI and the MCP server are two renderers of one result: for every
// registered tool, the same inputs through the real `assay ... --json`
// (the built binary, with an explicit environment) and through the tool
// (a real mcp-go client) give the same document, once the fields only one
// transport has are removed and the values that differ on every run
// (ids, times, output paths) are masked.

// parityCase is one tool's comparison.
type parityCase struct {
	// run gets a fresh server and a CLI runner over the same home and
	// root, and returns the two documents.
	run func(t *testing.T, p *parityEnv) (mcpDoc, cliDoc map[string]any)
	// transportOnly are fields only the MCP result has (resource links,
	// the paths a call wrote); removed from the MCP document.
	transportOnly []string
	// volatile are dotted paths whose values differ between any two runs
	// (ids, timestamps, output locations); masked in both documents.
	volatile []string
	// schema is the command's success schema under schemas/: the CLI's
	// real --json output must validate against it.
	schema string
}

var parityCases = map[string]parityCase{
	"scan": {
		schema: scan.SchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			mustWrite(t, filepath.Join(p.root, "app", "agent.py"), []byte(pyApp))
			mustWrite(t, filepath.Join(p.root, "app", "vendor", "x.py"), []byte(pyApp))
			m := p.mcp("scan", map[string]any{"path": "app", "exclude": []string{"vendor/*"}, "report": "r_mcp.html"})
			c := p.cli(0, "scan", p.abs("app"), "--exclude", "vendor/*", "--report", p.abs("r_cli.html"), "--json")
			// One coverage figure, computed once: the report sidecars agree.
			sm, sc := p.readJSON("r_mcp.json"), p.readJSON("r_cli.json")
			if !reflect.DeepEqual(sm["summary"], sc["summary"]) {
				t.Errorf("report summaries differ:\nmcp %v\ncli %v", sm["summary"], sc["summary"])
			}
			return m, c
		},
		transportOnly: []string{"report_path", "contract_path"},
	},
	"emit-receipt": {
		schema: ops.EmitSchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			data := `{"choice":"ship","n":12345678901234567,"score":0.25}`
			var d map[string]any
			dec := json.NewDecoder(strings.NewReader(data))
			dec.UseNumber()
			_ = dec.Decode(&d)
			// Both traces are new: the first receipt of each is seq 0.
			m := p.mcp("emit-receipt", map[string]any{"type": "decision_v1", "data": d, "parent_receipt_id": "r_000000000001"})
			c := p.cliTrace(0, "trace_20260101T000000_0a0b0c0d", "emit", "decision_v1", "--data", data, "--parent", "r_000000000001", "--json")
			return m, c
		},
		volatile: []string{"receipt_id", "timestamp", "_trace_id", "_stored_at", "_store_seq"},
	},
	"verify-pack": {
		schema: verify.SchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			pk := p.sessionPack("p1")
			// An explicit min_coverage 0 is 0 on both sides (not 0.8).
			p.cli(0, "scan", p.abs("."), "--emit-contract", p.abs("contract.json"), "--json")
			m := p.mcp("verify-pack", map[string]any{"path": pk, "require_claim_pass": false, "coverage_contract": "contract.json", "min_coverage": 0})
			c := p.cli(-1, "verify-pack", pk, "--coverage-contract", p.abs("contract.json"), "--min-coverage", "0", "--json")
			cov, _ := m["coverage"].(map[string]any)
			if cov == nil || cov["min_coverage"] != float64(0) {
				t.Errorf("min_coverage 0 not kept: %v", m["coverage"])
			}
			return m, c
		},
	},
	"explain-pack": {
		schema: ops.ExplainSchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			pk := p.sessionPack("p1")
			return p.mcp("explain-pack", map[string]any{"path": pk}), p.cli(0, "explain", pk, "--json")
		},
	},
	"diff-packs": {
		schema: diff.SchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			a, b := p.sessionPack("a"), p.sessionPack("b")
			m := p.mcp("diff-packs", map[string]any{"a": a, "b": b, "max_errors": 0, "cost_pct": 0})
			c := p.cli(-1, "diff", a, b, "--gate-errors", "0", "--gate-cost-pct", "0", "--json")
			return m, c
		},
	},
	"run-flow": {
		schema: flows.SchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			m := p.mcp("run-flow", map[string]any{"flow": "try", "dir": p.root})
			c := p.cli(0, "flow", "try", "--dir", p.root, "--json")
			return m, c
		},
	},
	"bundle": {
		schema: ops.BundleSchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			// A pack of the session's trace: the CLI packs it before the
			// bundle call, so both see the same receipts (the bundle call's
			// own receipt is written after it returns).
			p.mcp("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"step": 1}})
			c := p.cli(0, "proof-pack", p.srv.TraceID(), "-o", p.abs("cli_pack"), "--json")
			m := p.mcp("bundle", map[string]any{"out": "mcp_pack"})
			// And the audit bundle of one pack.
			ma := p.mcp("bundle", map[string]any{"pack": "mcp_pack", "out": "mcp.tar.gz"})
			ca := p.cli(0, "audit", "bundle", p.abs("mcp_pack"), "-o", p.abs("cli.tar.gz"), "--json")
			validDoc(t, ops.BundleSchemaPath, ca)
			delete(ma, "resource_uri")
			// The bundle's path and size follow its name and time.
			for _, f := range []string{"bundle.path", "bundle.bytes"} {
				mask(ma, f)
				mask(ca, f)
			}
			if !reflect.DeepEqual(ma, ca) {
				t.Errorf("audit bundle documents differ:\nmcp %s\ncli %s", mustIndent(ma), mustIndent(ca))
			}
			return m, c
		},
		transportOnly: []string{"resource_uri"},
		volatile:      []string{"pack.output_dir", "pack.pack_id", "pack.pack_root_sha256"},
	},
	"policy-check": {
		schema: ops.PolicyCheckSchemaPath,
		run: func(t *testing.T, p *parityEnv) (map[string]any, map[string]any) {
			mustWrite(t, filepath.Join(p.root, mcppolicy.DefaultFile), []byte("mode: enforce\ntools:\n  deny: [\"delete_*\"]\n  constraints:\n    write_file:\n      deny_patterns: ['\"path\":\"/etc/']\n"))
			pol := p.abs(mcppolicy.DefaultFile)
			m := p.mcp("policy-check", map[string]any{"policy": pol, "tool": "write_file", "arguments": map[string]any{"path": "/etc/passwd"}})
			c := p.cli(1, "mcp", "policy", "check", pol, "--tool", "write_file", "--args", `{"path":"/etc/passwd"}`, "--json")
			return m, c
		},
	},
}

func TestCLIAndMCPParity(t *testing.T) {
	t.Parallel()
	bin := buildAssay(t)
	names := map[string]bool{}
	for _, tl := range append(Registry(), Tools(true)...) {
		names[tl.Name] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		pc, ok := parityCases[name]
		if !ok {
			t.Errorf("tool %s has no CLI parity case: add one to parityCases", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := newParityEnv(t, bin)
			m, c := pc.run(t, p)
			validDoc(t, pc.schema, c)
			for _, f := range pc.transportOnly {
				delete(m, f)
			}
			for _, f := range pc.volatile {
				mask(m, f)
				mask(c, f)
			}
			if !reflect.DeepEqual(m, c) {
				t.Errorf("%s: the MCP result and the CLI --json differ\nmcp %s\ncli %s", name, mustIndent(m), mustIndent(c))
			}
		})
	}
	for name := range parityCases {
		if !names[name] {
			t.Errorf("parity case %s names no registered tool", name)
		}
	}
}

// validDoc checks a command's --json document against its checked-in
// success schema.
func validDoc(t *testing.T, schemaPath string, doc map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", schemaPath))
	if err != nil {
		t.Fatalf("success schema: %v", err)
	}
	if err := schematest.Valid(schematest.Compile(t, raw), doc); err != nil {
		t.Errorf("--json output does not validate against %s: %v\n%s", schemaPath, err, mustIndent(doc))
	}
}

// parityEnv is one server and a CLI over the same home and root.
type parityEnv struct {
	*env
	bin string
	// cliHome is a HOME with nothing in it, so the CLI reads no user
	// configuration.
	cliHome string
}

func newParityEnv(t *testing.T, bin string) *parityEnv {
	e := newEnv(t, nil) // no CI variables: newEnv's environment is empty
	return &parityEnv{env: e, bin: bin, cliHome: t.TempDir()}
}

func (p *parityEnv) abs(rel string) string { return filepath.Join(p.root, rel) }

// mcp calls a tool that must succeed and returns its structured content.
func (p *parityEnv) mcp(name string, args map[string]any) map[string]any {
	p.t.Helper()
	var doc map[string]any
	p.ok(name, args, &doc)
	return doc
}

// cli runs the built assay with an explicit environment in the root and
// returns its --json document; want is the exit code (-1: any of 0, 1, 2).
func (p *parityEnv) cli(want int, args ...string) map[string]any {
	p.t.Helper()
	return p.cliTrace(want, "", args...)
}

func (p *parityEnv) cliTrace(want int, trace string, args ...string) map[string]any {
	p.t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.root
	cmd.Env = []string{"HOME=" + p.cliHome, store.EnvHome + "=" + p.home, "PATH=/usr/bin:/bin", "NO_COLOR=1"}
	if trace != "" {
		cmd.Env = append(cmd.Env, store.EnvTrace+"="+trace)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if xe, ok := err.(*exec.ExitError); ok {
		code = xe.ExitCode()
	} else if err != nil {
		p.t.Fatal(err)
	}
	if (want >= 0 && code != want) || code > 2 {
		p.t.Fatalf("assay %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		p.t.Fatalf("assay %s: stdout is not one JSON document: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return doc
}

// sessionPack records a receipt and bundles the session into dir.
func (p *parityEnv) sessionPack(dir string) string {
	p.t.Helper()
	p.mcp("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"step": 1}})
	p.mcp("bundle", map[string]any{"out": dir})
	return p.abs(dir)
}

func (p *parityEnv) readJSON(rel string) map[string]any {
	p.t.Helper()
	b, err := os.ReadFile(p.abs(rel))
	if err != nil {
		p.t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		p.t.Fatal(err)
	}
	return v
}

// mask replaces the value at a dotted path with a marker (absent stays
// absent, so a field one side lacks still differs).
func mask(doc map[string]any, path string) {
	parts := strings.Split(path, ".")
	cur := doc
	for _, k := range parts[:len(parts)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	if _, ok := cur[parts[len(parts)-1]]; ok {
		cur[parts[len(parts)-1]] = "<masked>"
	}
}

func mustIndent(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

var (
	assayOnce sync.Once
	assayDir  string // removed by TestMain
	assayBin  string
	assayErr  error
)

// buildAssay builds the CLI once per test binary, into a directory that
// TestMain removes.
func buildAssay(t *testing.T) string {
	t.Helper()
	assayOnce.Do(func() {
		dir, err := os.MkdirTemp("", "assay-parity-bin-")
		if err != nil {
			assayErr = err
			return
		}
		assayDir = dir
		assayBin = filepath.Join(dir, "assay")
		out, err := exec.Command("go", "build", "-o", assayBin, "github.com/assay-dev/assay/cmd/assay").CombinedOutput()
		if err != nil {
			assayErr = err
			assayBin = string(out)
		}
	})
	if assayErr != nil {
		t.Fatalf("build assay: %v\n%s", assayErr, assayBin)
	}
	return assayBin
}

// The four rules the two front ends used to disagree on, each through both.
func TestParityRules(t *testing.T) {
	t.Parallel()
	bin := buildAssay(t)

	t.Run("keystore only for a named signer", func(t *testing.T) {
		t.Parallel()
		p := newParityEnv(t, bin)
		ci, err := keys.Open(p.home).Write("ci", []byte(strings.Repeat("c", 32)))
		if err != nil {
			t.Fatal(err)
		}
		dir := p.abs("nokey")
		if err := verifytest.Build(dir, 2, ci); err != nil {
			t.Fatal(err)
		}
		if err := verifytest.Reseal(dir, ci, func(man, _ *canon.Object) { man.Set("signer_pubkey", "") }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			signer string
			code   int
		}{{"", 2}, {"ci", 0}} {
			args := map[string]any{"path": dir, "integrity_only": true}
			argv := []string{"verify-pack", dir, "--integrity-only", "--json"}
			if tc.signer != "" {
				args["signer"] = tc.signer
				argv = append(argv, "--signer", tc.signer)
			}
			m, c := p.mcp("verify-pack", args), p.cli(tc.code, argv...)
			if m["exit_code"] != float64(tc.code) || !reflect.DeepEqual(m, c) {
				t.Errorf("signer %q: mcp exit %v, want %d; equal to the CLI's: %v", tc.signer, m["exit_code"], tc.code, reflect.DeepEqual(m, c))
			}
		}
	})

	t.Run("evidence_lost on both sides", func(t *testing.T) {
		t.Parallel()
		p := newParityEnv(t, bin)
		p.mcp("emit-receipt", map[string]any{"type": "decision_v1"})
		path, ok, err := p.srv.store.Find(p.srv.TraceID())
		if err != nil || !ok {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("{\"cut\": \n")
		f.Close()
		c := p.cli(1, "proof-pack", p.srv.TraceID(), "-o", p.abs("cli_pack"), "--json")
		m := p.mcp("bundle", map[string]any{"out": "mcp_pack"})
		if c["evidence_lost"] != float64(1) || m["evidence_lost"] != float64(1) {
			t.Errorf("evidence_lost: cli %v, mcp %v; want 1 and 1", c["evidence_lost"], m["evidence_lost"])
		}
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if assayDir != "" {
		os.RemoveAll(assayDir)
	}
	os.Exit(code)
}
