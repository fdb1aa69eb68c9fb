package doctor

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// project is a fixture: a project dir and an assay home, both temp.
type project struct {
	t         testing.TB
	dir, home string
	env       map[string]string
}

func newProject(t testing.TB) *project {
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(home, 0o700)
	return &project{t: t, dir: t.TempDir(), home: home, env: map[string]string{}}
}

func (p *project) write(rel, data string) {
	p.t.Helper()
	path := filepath.Join(p.dir, rel)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) opts(only ...string) Options {
	return Options{Dir: p.dir, Home: p.home, Only: only, Getenv: func(k string) string { return p.env[k] },
		LookPath: func(string) (string, error) { return "", errors.New("not found") }}
}

func (p *project) check(id string) Probe {
	p.t.Helper()
	return p.checkWith(p.opts(id))
}

func (p *project) checkWith(o Options) Probe {
	p.t.Helper()
	r, err := Run(o)
	if err != nil {
		p.t.Fatal(err)
	}
	if len(r.Probes) != 1 {
		p.t.Fatalf("want one check, got %d", len(r.Probes))
	}
	return r.Probes[0]
}

// buildPack writes a real signed pack with one model_call receipt.
func (p *project) buildPack(name string) string {
	p.t.Helper()
	v, err := canon.Decode([]byte(`{"receipt_id":"r_000000000001","type":"model_call","timestamp":"2026-01-15T11:59:00.123456+00:00","model":"gpt-4o","_trace_id":"trace_t"}`))
	if err != nil {
		p.t.Fatal(err)
	}
	sg, _, err := keys.Open(p.home).ActiveSigner(true)
	if err != nil {
		p.t.Fatal(err)
	}
	out := filepath.Join(p.dir, name)
	if _, err := pack.Build(pack.Options{RunID: "trace_t", Receipts: []*receipt.Receipt{v.(*receipt.Receipt)}, Signer: sg, OutDir: out}); err != nil {
		p.t.Fatal(err)
	}
	return out
}

// pinnedFP is the signer a test lock pins (no key in the test home has it).
var pinnedFP = strings.Repeat("ab", 32)

// writeLock writes a lock with core/lock, as `assay lock write` does: a
// signer pinned.
func writeLock(path string, cardIDs ...string) error {
	l, err := lock.New(cardIDs, []string{pinnedFP})
	if err != nil {
		return err
	}
	return l.Write(path)
}

func (p *project) editLock(f func(m map[string]any)) {
	p.t.Helper()
	path := filepath.Join(p.dir, "assay.lock")
	b, _ := os.ReadFile(path)
	var m map[string]any
	json.Unmarshal(b, &m)
	f(m)
	b, _ = json.Marshal(m)
	os.WriteFile(path, b, 0o644)
}

// Every check has a passing and a failing fixture.
func TestChecksPassAndFail(t *testing.T) {
	t.Parallel()
	type fixture func(p *project) Options
	cases := []struct {
		id         string
		pass, fail fixture
		failStatus string
	}{
		{"DOCTOR_CORE_001",
			func(p *project) Options { return p.opts("DOCTOR_CORE_001") },
			func(p *project) Options { o := p.opts("DOCTOR_CORE_001"); o.Version = "1 0 dev"; return o }, Fail},
		{"DOCTOR_FS_001",
			func(p *project) Options { return p.opts("DOCTOR_FS_001") },
			func(p *project) Options {
				p.home = filepath.Join(p.dir, "home-is-a-file")
				os.WriteFile(p.home, nil, 0o644)
				return p.opts("DOCTOR_FS_001")
			}, Fail},
		{"DOCTOR_KEY_001",
			func(p *project) Options {
				keys.Open(p.home).Generate(keys.DefaultSigner)
				return p.opts("DOCTOR_KEY_001")
			},
			func(p *project) Options {
				ks := keys.Open(p.home)
				ks.Generate(keys.DefaultSigner)
				os.WriteFile(ks.KeyPath(keys.DefaultSigner), []byte("short"), 0o600)
				return p.opts("DOCTOR_KEY_001")
			}, Fail},
		{"DOCTOR_SCAN_001",
			func(p *project) Options {
				// Patched: the entrypoint imports the capture shim, so the
				// call in worker.py is instrumented by scan's rule; the
				// test's own call is counted apart, not against it.
				p.write("main.py", "import assay_capture  # assay:patched\nimport worker\n")
				p.write("assay_capture.py", "# assay:capture-shim\n")
				p.write("worker.py", "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n")
				p.write("tests/test_worker.py", "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n")
				return p.opts("DOCTOR_SCAN_001")
			},
			func(p *project) Options {
				p.write("worker.py", "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n")
				return p.opts("DOCTOR_SCAN_001")
			}, Warn},
		{"DOCTOR_PACK_001",
			func(p *project) Options { p.buildPack("proof_pack_a"); return p.opts("DOCTOR_PACK_001") },
			func(p *project) Options {
				os.Remove(filepath.Join(p.buildPack("proof_pack_a"), "pack_signature.sig"))
				return p.opts("DOCTOR_PACK_001")
			}, Fail},
		{"DOCTOR_PACK_002",
			func(p *project) Options { p.buildPack("proof_pack_a"); return p.opts("DOCTOR_PACK_002") },
			func(p *project) Options {
				f := filepath.Join(p.buildPack("proof_pack_a"), "receipt_pack.jsonl")
				b, _ := os.ReadFile(f)
				os.WriteFile(f, []byte(strings.Replace(string(b), "gpt-4o", "gpt-5o", 1)), 0o644)
				return p.opts("DOCTOR_PACK_002")
			}, Fail},
		{"DOCTOR_LOCK_001",
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
				return p.opts("DOCTOR_LOCK_001")
			},
			func(p *project) Options {
				p.write("assay.lock", `{"lock_version": "1.0"}`)
				return p.opts("DOCTOR_LOCK_001")
			}, Fail},
		{"DOCTOR_LOCK_002",
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness", "no_breakglass")
				return p.opts("DOCTOR_LOCK_002")
			},
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
				p.editLock(func(m map[string]any) {
					m["run_cards"].([]any)[0].(map[string]any)["claim_set_hash"] = strings.Repeat("0", 64)
				})
				return p.opts("DOCTOR_LOCK_002")
			}, Fail},
		{"DOCTOR_LOCK_003",
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
				return p.opts("DOCTOR_LOCK_003")
			},
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
				p.editLock(func(m map[string]any) {
					m["signer_policy"] = map[string]any{"mode": "allowlist", "allowed_fingerprints": []any{"ab"}, "allowed_signer_ids": []any{"corpus-signer"}}
				})
				return p.opts("DOCTOR_LOCK_003")
			}, Fail},
		{"DOCTOR_CI_001",
			func(p *project) Options {
				w, _ := ciinit.RenderWorkflow(ciinit.WorkflowOptions{RunCommand: "python3 app.py"})
				p.write(ciinit.DefaultWorkflowPath, string(w.YAML))
				return p.opts("DOCTOR_CI_001")
			},
			func(p *project) Options {
				p.write(".github/workflows/build.yml", "on: push\njobs: {}\n")
				return p.opts("DOCTOR_CI_001")
			}, Warn},
		{"DOCTOR_CI_002",
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
				return p.opts("DOCTOR_CI_002")
			},
			func(p *project) Options {
				writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
				p.editLock(func(m map[string]any) { delete(m["exit_contract"].(map[string]any), "2") })
				return p.opts("DOCTOR_CI_002")
			}, Fail},
		{"DOCTOR_CI_003",
			func(p *project) Options {
				p.write(".github/workflows/a.yml", "steps:\n  - run: assay verify-pack x\n")
				return p.opts("DOCTOR_CI_003")
			},
			func(p *project) Options {
				p.write(".github/workflows/a.yml", "steps:\n  - run: assay verify-pack x\n    continue-on-error: true\n")
				return p.opts("DOCTOR_CI_003")
			}, Warn},
		{"DOCTOR_GATEWAY_001",
			func(p *project) Options {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				p.env["OPENAI_BASE_URL"] = "http://" + ln.Addr().String() + "/v1"
				p.env[EnvGateway] = ln.Addr().String()
				return p.opts("DOCTOR_GATEWAY_001")
			},
			func(p *project) Options {
				ln, _ := net.Listen("tcp", "127.0.0.1:0")
				addr := ln.Addr().String()
				ln.Close() // nothing listens there any more
				p.env["OPENAI_BASE_URL"] = "http://" + addr + "/v1"
				return p.opts("DOCTOR_GATEWAY_001")
			}, Fail},
		{"DOCTOR_MCP_001",
			func(p *project) Options {
				s, _ := ciinit.NewMCPServer(ciinit.ClientClaude, "/bin/sh", []string{p.dir}, false)
				ciinit.WriteMCPConfig(filepath.Join(p.dir, ".mcp.json"), ciinit.ClientClaude, s, false)
				return p.opts("DOCTOR_MCP_001")
			},
			func(p *project) Options {
				p.write(".mcp.json", `{"mcpServers": {"assay": {"command": "/bin/sh", "args": ["--root", "/nonexistent/assay-root"]}}}`)
				return p.opts("DOCTOR_MCP_001")
			}, Fail},
		{"DOCTOR_MCP_002",
			func(p *project) Options {
				p.write("assay.mcp-policy.yaml", "mode: enforce\ntools:\n  deny: [\"delete_*\"]\n")
				return p.opts("DOCTOR_MCP_002")
			},
			func(p *project) Options {
				p.write("assay.mcp-policy.yaml", "mode: enforce\ntools:\n  denny: [\"delete_*\"]\n")
				return p.opts("DOCTOR_MCP_002")
			}, Fail},
	}
	seen := map[string]bool{"DOCTOR_CARD_001": true} // has its own test below
	for _, tc := range cases {
		seen[tc.id] = true
		t.Run(tc.id, func(t *testing.T) {
			p := newProject(t)
			if c := p.checkWith(tc.pass(p)); c.Status != Pass {
				t.Errorf("pass fixture: %+v", c)
			}
			p = newProject(t)
			c := p.checkWith(tc.fail(p))
			if c.Status != tc.failStatus || c.Message == "" || c.Fix == "" {
				t.Errorf("fail fixture: want %s with a message and a fix, got %+v", tc.failStatus, c)
			}
		})
	}
	for _, id := range IDs() {
		if !seen[id] {
			t.Errorf("check %s has no fixtures", id)
		}
	}
}

// A lock that accepts any signer is flagged (DECISIONS 20), with a fix that
// pins the active signer; the fix's own writer pins it.
func TestLockAnySignerFlagged(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness", "no_breakglass")
	p.editLock(func(m map[string]any) {
		m["signer_policy"] = map[string]any{"mode": "any", "allowed_fingerprints": []any{}}
	})
	c := p.check("DOCTOR_LOCK_003")
	if c.Status != Warn || !strings.Contains(c.Message, "anyone") || !strings.Contains(c.Fix, "--cards receipt_completeness,no_breakglass") {
		t.Fatalf("any policy: %+v", c)
	}
	path := filepath.Join(p.dir, "fixed.lock")
	if err := WritePinnedLock(path, p.home); err != nil {
		t.Fatal(err)
	}
	l, err := lock.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.Open(p.home).LoadPublic(keys.Open(p.home).Active())
	if err != nil {
		t.Fatal(err)
	}
	if l.SignerPolicy.Mode != lock.ModeAllowlist || len(l.SignerPolicy.AllowedFingerprints) != 1 || l.SignerPolicy.AllowedFingerprints[0] != keys.Fingerprint(pub) {
		t.Fatalf("written lock does not pin the active signer: %+v", l.SignerPolicy)
	}
}

func TestCardCheck(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	if c := p.check("DOCTOR_CARD_001"); c.Status != Pass || !strings.Contains(c.Message, "built-in run cards") {
		t.Fatalf("pass: %+v", c)
	}
	e, _ := newEnv(p.opts())
	e.cards = func() []string { return []string{"receipt_completeness", "no_such_card"} }
	if c := probeCards(e); c.Status != Fail || !strings.Contains(c.Message, "no_such_card") {
		t.Fatalf("fail: %+v", c)
	}
}

func TestGatewayWiring(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		env    map[string]string
		status string
		msg    string
	}{
		{"nothing set", map[string]string{}, Skip, "no SDK base-URL"},
		{"remote while gateway expected", map[string]string{"OPENAI_BASE_URL": "https://api.openai.com/v1", EnvGateway: "127.0.0.1:8787"}, Fail, "bypass the recorder"},
		{"remote, no gateway expected", map[string]string{"ANTHROPIC_BASE_URL": "https://api.anthropic.com"}, Pass, "direct"},
		{"not a URL", map[string]string{"GOOGLE_GEMINI_BASE_URL": "localhost"}, Fail, "not an http(s) URL"},
		{"gateway expected but no base URL", map[string]string{EnvGateway: "127.0.0.1:8787"}, Fail, "no SDK base-URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newProject(t)
			p.env = tc.env
			c := p.check("DOCTOR_GATEWAY_001")
			if c.Status != tc.status || !strings.Contains(c.Message, tc.msg) {
				t.Fatalf("%+v", c)
			}
			if tc.status == Fail && c.Fix == "" {
				t.Fatal("failure without a fix")
			}
			if tc.env[EnvGateway] != "" && tc.env["OPENAI_BASE_URL"] != "" && c.Fix != "export OPENAI_BASE_URL=http://127.0.0.1:8787/openai" {
				t.Fatalf("fix %q does not point the SDK at the gateway's route", c.Fix)
			}
		})
	}
}

func TestMCPConfigCases(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	if c := p.check("DOCTOR_MCP_001"); c.Status != Skip {
		t.Fatalf("no config: %+v", c)
	}
	p.write(".mcp.json", `{"mcpServers": {"assay": {"command": "assay-mcp-not-installed", "args": ["--root", "."]}}}`)
	if c := p.check("DOCTOR_MCP_001"); c.Status != Fail || !strings.Contains(c.Fix, "go install") {
		t.Fatalf("missing binary: %+v", c)
	}
	p.write(".mcp.json", `{"mcpServers": [}`)
	if c := p.check("DOCTOR_MCP_001"); c.Status != Fail || !strings.Contains(c.Message, "not a JSON object") {
		t.Fatalf("bad json: %+v", c)
	}
	p.write(".mcp.json", `{"mcpServers": {"other": {"command": "x"}}}`)
	if c := p.check("DOCTOR_MCP_001"); c.Status != Warn {
		t.Fatalf("no assay entry: %+v", c)
	}
}

// --fix creates the key and the lock, and a second run passes.
func TestFixThenSecondRunPasses(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.home = filepath.Join(p.home, "fresh") // does not exist yet
	o := p.opts()
	o.Only = nil
	o.Profile = ProfileRelease
	first, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DOCTOR_FS_001": Warn, "DOCTOR_KEY_001": Warn, "DOCTOR_LOCK_001": Warn}
	for _, c := range first.Probes {
		if s, ok := want[c.ID]; ok && (c.Status != s || !c.Fixable) {
			t.Errorf("before fix %s: %+v", c.ID, c)
		}
	}
	if first.NextCommand != "mkdir -p "+p.home {
		t.Errorf("next command %q", first.NextCommand)
	}
	o.Fix = true
	fixed, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.Fixed) != 3 {
		t.Fatalf("fixes: %+v", fixed.Fixed)
	}
	for _, f := range fixed.Fixed {
		if !f.Applied {
			t.Errorf("fix not applied: %+v", f)
		}
	}
	o.Fix = false
	second, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != Pass || second.ExitCode != 0 || second.Summary[Warn]+second.Summary[Fail] != 0 {
		t.Fatalf("second run: %+v", second)
	}
	if !keys.Open(p.home).Exists(keys.DefaultSigner) {
		t.Fatal("no key after --fix")
	}
	if _, err := os.Stat(filepath.Join(p.dir, "assay.lock")); err != nil {
		t.Fatal("no lock after --fix")
	}
}

func TestExitCodesAndProfiles(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	if _, err := Run(Options{Home: p.home, Profile: "ledger"}); exit.Code(err) != exit.BadInput {
		t.Fatalf("unknown profile: %v", err)
	}
	if _, err := Run(Options{Home: p.home, Only: []string{"DOCTOR_NOPE"}}); exit.Code(err) != exit.BadInput {
		t.Fatalf("unknown check: %v", err)
	}
	if _, err := Run(Options{Home: p.home, Pack: filepath.Join(p.dir, "no-such-pack")}); exit.Code(err) != exit.BadInput {
		t.Fatalf("missing --pack: %v", err)
	}
	// A warning: exit 0, or 1 with Strict.
	o := p.opts("DOCTOR_KEY_001")
	r, _ := Run(o)
	if r.Status != Warn || r.ExitCode != 0 {
		t.Fatalf("warn: %+v", r)
	}
	o.Strict = true
	if r, _ := Run(o); r.ExitCode != exit.HonestFail {
		t.Fatalf("strict warn: %+v", r)
	}
	// Profiles select different check sets.
	count := func(profile string) []string {
		o := p.opts()
		o.Only, o.Profile = nil, profile
		r, err := Run(o)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range r.Probes {
			ids = append(ids, c.ID)
		}
		return ids
	}
	local, ci, rel := count(ProfileLocal), count(ProfileCI), count(ProfileRelease)
	if strings.Contains(strings.Join(local, " "), "LOCK") || !strings.Contains(strings.Join(ci, " "), "DOCTOR_CI_001") || strings.Contains(strings.Join(rel, " "), "PACK") {
		t.Fatalf("profiles: local %v ci %v release %v", local, ci, rel)
	}
	// A lock or pack named explicitly is checked in every profile: an
	// unreadable --lock under the local profile used to pass silently.
	p.write("bad.lock", "{bad")
	o = p.opts()
	o.Only, o.Lock = nil, filepath.Join(p.dir, "bad.lock")
	r, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Fail || r.ExitCode != exit.HonestFail || !strings.Contains(fmtChecks(r), "DOCTOR_LOCK_001 fail") {
		t.Fatalf("explicit bad --lock in the local profile: %s", fmtChecks(r))
	}
	o = p.opts()
	o.Only, o.Profile, o.Pack = nil, ProfileRelease, p.buildPack("proof_pack_rel")
	if r, _ := Run(o); !strings.Contains(fmtChecks(r), "DOCTOR_PACK_002 pass") {
		t.Fatalf("explicit --pack in the release profile: %s", fmtChecks(r))
	}
}

func fmtChecks(r *Report) string {
	var b strings.Builder
	for _, c := range r.Probes {
		b.WriteString(c.ID + " " + string(c.Status) + "; ")
	}
	return b.String()
}

func BenchmarkDoctorCI(b *testing.B) {
	p := newProject(b)
	keys.Open(p.home).Generate(keys.DefaultSigner)
	writeLock(filepath.Join(p.dir, "assay.lock"), "receipt_completeness")
	p.buildPack("proof_pack_a")
	o := p.opts()
	o.Profile = ProfileCI
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, err := Run(o); err != nil || r.Summary[Fail] != 0 {
			b.Fatal(err, r)
		}
	}
}

// Doctor finds the project's newest pack by its manifest, as verify-pack
// --latest does, whatever the directory is called.
func TestDoctorFindsPacksByManifest(t *testing.T) {
	p := newProject(t)
	p.buildPack(filepath.Join("evidence", "nightly"))
	c := p.check("DOCTOR_PACK_002")
	if c.Status != Pass || !strings.Contains(c.Message, filepath.Join("evidence", "nightly")) {
		t.Fatalf("%+v", c)
	}
}
