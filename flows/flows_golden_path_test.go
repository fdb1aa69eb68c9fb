package flows_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/flows"
)

func TestFlowAudit(t *testing.T) {
	t.Parallel()
	dir := project(t)
	// No pack yet: the plan is shown with a placeholder and says how to
	// make one; applying it runs nothing.
	blocked, err := mustGet(t, "audit").Plan(dir, nil)
	if err != nil || blocked.Blocked == "" || blocked.Params["pack"] != flows.PackPlaceholder || !strings.Contains(blocked.BlockedFix, "assay run") {
		t.Fatalf("placeholder plan: %v %+v", err, blocked)
	}
	if o := apply(t, blocked); o.Status != "failed" || o.Blocked == "" || o.Steps[0].Status != "not_run" {
		t.Fatalf("a placeholder plan ran: %+v", o)
	}
	if o := apply(t, plan(t, "try", dir, nil)); o.Status != "ok" {
		t.Fatalf("setup: %+v", o)
	}
	// The demo's packs are found by manifest, whatever their names.
	if p := plan(t, "audit", dir, nil); p.Blocked != "" || !strings.HasPrefix(p.Params["pack"], "challenge_pack"+string(filepath.Separator)) {
		t.Fatalf("default pack after try: %+v", p.Params)
	}
	p := plan(t, "audit", dir, map[string]string{"pack": "challenge_pack/good", "expected_signer": "challenge"})
	assertPlanned(t, p, "planned", "planned", "planned", "planned", "planned")
	o := apply(t, p)
	assertOutcome(t, o, want{"verify", "ok", 0}, want{"explain", "ok", 0}, want{"bundle", "ok", 0}, want{"verify-bundle", "ok", 0}, want{"verify-signer", "ok", 0})
	if _, err := os.Stat(filepath.Join(dir, "audit_bundle_good.tar.gz")); err != nil {
		t.Fatal("bundle not written where the plan said")
	}
	// Re-runnable: the second apply keeps the bundle it wrote and passes.
	o = apply(t, plan(t, "audit", dir, map[string]string{"pack": "challenge_pack/good", "expected_signer": "challenge"}))
	assertOutcome(t, o, want{"verify", "ok", 0}, want{"explain", "ok", 0}, want{"bundle", "skipped", -1}, want{"verify-bundle", "ok", 0}, want{"verify-signer", "ok", 0})
	// A bundle of that name that does not hold this pack (here: not a
	// bundle at all) is replaced, never handed over as it is.
	if err := os.WriteFile(filepath.Join(dir, "audit_bundle_good.tar.gz"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	o = apply(t, plan(t, "audit", dir, map[string]string{"pack": "challenge_pack/good", "expected_signer": "challenge"}))
	assertOutcome(t, o, want{"verify", "ok", 0}, want{"explain", "ok", 0}, want{"bundle", "ok", 0}, want{"verify-bundle", "ok", 0}, want{"verify-signer", "ok", 0})
	// The wrong expected signer fails the last step with exit 2 (DECISIONS 20: a signer mismatch is a trust failure, as the lock's).
	o = apply(t, plan(t, "audit", dir, map[string]string{"pack": "challenge_pack/good", "bundle": "b2.tar.gz", "expected_signer": "someone-else"}))
	if o.Status != "failed" || o.FailedStep != 5 || *o.FailedExitCode != 2 {
		t.Fatalf("outcome %+v", o)
	}
}

func mustGet(t *testing.T, name string) *flows.Flow {
	f, err := flows.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFlowCI(t *testing.T) {
	t.Parallel()
	dir := project(t)
	run := assayBin + ` emit model_call --data '{"model_id": "gpt-4o", "provider": "openai"}'`
	p := plan(t, "ci", dir, map[string]string{"run_command": run})
	assertPlanned(t, p, "planned", "planned", "planned", "planned", "planned")
	o := apply(t, p)
	assertOutcome(t, o, want{"lock", "ok", 0}, want{"workflow", "ok", 0}, want{"baseline-run", "ok", 0}, want{"baseline-verify", "ok", 0}, want{"baseline-set", "ok", 0})
	wf, err := os.ReadFile(filepath.Join(dir, ciinit.DefaultWorkflowPath))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(wf), "emit model_call") || !strings.Contains(string(wf), "assay diff proof_pack_baseline proof_pack_ci") {
		t.Errorf("workflow does not carry the run command and baseline:\n%s", wf)
	}
	for _, f := range []string{"assay.lock", "proof_pack_baseline/pack_manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	simulateWorkflow(t, dir, wf)
	// Second time: lock, workflow and baseline run are skipped.
	p = plan(t, "ci", dir, map[string]string{"run_command": run})
	assertPlanned(t, p, "skipped", "skipped", "skipped", "planned", "planned")
	assertOutcome(t, apply(t, p), want{"lock", "skipped", -1}, want{"workflow", "skipped", -1}, want{"baseline-run", "skipped", -1}, want{"baseline-verify", "ok", 0}, want{"baseline-set", "ok", 0})
}

// adoptApp calls the OpenAI chat API. Its SDK call is what scan finds and
// patch instruments; the openai package is not installed here (PyPI is not
// reachable), so at run time it takes the standard-library path, recorded
// through the gateway against the synthetic LLM server.
const adoptApp = `import json, os, urllib.request

try:
    from openai import OpenAI
except ImportError:
    OpenAI = None


def ask(prompt):
    if OpenAI is not None:
        client = OpenAI()
        r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
        return r.choices[0].message.content
    base = os.environ["OPENAI_BASE_URL"].rstrip("/")
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}).encode()
    req = urllib.request.Request(base + "/chat/completions", data=body,
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer mock-key"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["choices"][0]["message"]["content"]


if __name__ == "__main__":
    print(ask("hello"))
`

func TestFlowAdopt(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed for the adopt flow test")
	}
	dir := project(t)
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setStepEnv(t, "ASSAY_UPSTREAM_OPENAI", srv.URL()+"/v1")
	os.WriteFile(filepath.Join(dir, "app.py"), []byte(adoptApp), 0o644)
	p := plan(t, "adopt", dir, map[string]string{"run_command": "python3 app.py", "gateway": "true"})
	// With the gateway recording, patching is skipped: patched code under
	// the gateway recorded every SDK call twice. Without it, patch runs.
	assertPlanned(t, p, "planned", "skipped", "planned", "planned", "planned")
	assertPlanned(t, plan(t, "adopt", dir, map[string]string{"run_command": "python3 app.py"}), "planned", "planned", "planned", "planned", "planned")
	if !strings.Contains(p.Steps[2].Command, "assay run -c receipt_completeness -o proof_pack_adopt --gateway -- python3 app.py") {
		t.Fatalf("run step: %s", p.Steps[2].Command)
	}
	o := apply(t, p)
	assertOutcome(t, o, want{"scan", "ok", 0}, want{"patch", "skipped", -1}, want{"run", "ok", 0}, want{"verify", "ok", 0}, want{"explain", "ok", 0})
	if !strings.Contains(o.Steps[0].StdoutTail, "app.py") {
		t.Errorf("scan did not report the call site in app.py")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "app.py")); strings.Contains(string(b), "assay:patched") {
		t.Errorf("patch ran although the gateway records the calls:\n%s", b)
	}
	if srv.Requests() < 1 {
		t.Fatal("the program never reached the synthetic server")
	}
	var rep struct {
		ReceiptCount int            `json:"receipt_count"`
		Types        map[string]int `json:"receipt_types"`
	}
	vp := exec.Command(assayBin, "verify-pack", filepath.Join(dir, "proof_pack_adopt"), "--json")
	vp.Env = stepEnv(t)
	b, _ := vp.Output()
	if err := json.Unmarshal(b, &rep); err != nil || rep.ReceiptCount < 1 || rep.Types["model_call"] != 1 {
		t.Fatalf("pack: %v %s", err, b)
	}
	// Applying the flow again passes: the run step is skipped (it used to
	// stop the flow with run's "output directory already exists").
	o = apply(t, plan(t, "adopt", dir, map[string]string{"run_command": "python3 app.py", "gateway": "true"}))
	assertOutcome(t, o, want{"scan", "ok", 0}, want{"patch", "skipped", -1}, want{"run", "skipped", -1}, want{"verify", "ok", 0}, want{"explain", "ok", 0})
}

// simulateWorkflow runs the generated workflow's run: scripts the way the
// runner would (bash -e, in the checkout), with the built assay on PATH in
// place of the go install step, so every assay flag the workflow uses is
// known to be real: run into proof_pack_ci, verify it against the lock,
// diff-gate it against the baseline, scan to SARIF.
func simulateWorkflow(t *testing.T, dir string, yaml []byte) {
	t.Helper()
	wf, errs := actionlint.Parse(yaml)
	if len(errs) > 0 {
		t.Fatalf("parse workflow: %v", errs)
	}
	path := filepath.Dir(assayBin) + string(os.PathListSeparator) + os.Getenv("PATH")
	// The repository secret holds the developer's key (the one the lock
	// pins); the runner starts with an empty assay home.
	export := exec.Command(assayBin, "key", "export", "--secret")
	export.Env = stepEnv(t) // the developer's home, where the flow made the key
	secret, err := export.Output()
	if err != nil {
		t.Fatalf("key export --secret: %v", err)
	}
	runnerEnv := append(append([]string(nil), stepEnv(t)...), "PATH="+path, "ASSAY_HOME="+t.TempDir(), "ASSAY_SIGNING_KEY="+strings.TrimSpace(string(secret)))
	ran := 0
	for _, job := range []string{"assay-verify", "assay-scan"} {
		j := wf.Jobs[job]
		if j == nil {
			t.Fatalf("no job %s", job)
		}
		for _, st := range j.Steps {
			r, ok := st.Exec.(*actionlint.ExecRun)
			if !ok || r.Run == nil || strings.HasPrefix(r.Run.Value, "go install") {
				continue
			}
			if st.If != nil && strings.Contains(st.If.Value, "hashFiles") {
				// The gate's condition: the baseline pack is committed.
				if _, err := os.Stat(filepath.Join(dir, ciinit.DefaultBaselinePack, "pack_manifest.json")); err != nil {
					t.Fatalf("gate condition %q would be false", st.If.Value)
				}
			}
			cmd := exec.Command("bash", "-e", "-c", r.Run.Value)
			cmd.Dir = dir
			cmd.Env = runnerEnv
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("workflow step %q failed: %v\n%s", r.Run.Value, err, out)
			}
			ran++
		}
	}
	if ran != 5 {
		t.Fatalf("ran %d workflow scripts, want 5 (key import, run, verify, diff, scan)", ran)
	}
	var sarif struct {
		Version string `json:"version"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, ciinit.SARIFFile))
	if err := json.Unmarshal(b, &sarif); err != nil || sarif.Version != "2.1.0" {
		t.Fatalf("scan SARIF: %v %.200s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, ciinit.CIPack, "pack_manifest.json")); err != nil {
		t.Fatal("the workflow's run did not write " + ciinit.CIPack)
	}
}
