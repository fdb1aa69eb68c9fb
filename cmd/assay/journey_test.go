package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/keys"
)

// journeyApp is the sample app a new user adopts assay on: an OpenAI chat
// call (the call site scan finds; without the openai package it takes the
// standard-library path to OPENAI_BASE_URL, which the gateway records) and
// the agent's own decision receipt, written with 'assay emit'.
const journeyApp = `import json, os, subprocess, urllib.request

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
    answer = ask("hello")
    subprocess.run(["assay", "emit", "acme.decision", "approved=true"], check=True, stdout=subprocess.DEVNULL)
    print(answer)
`

// journeyStep is one command of the new-user journey and what its output
// must say.
type journeyStep struct {
	argv []string
	code int
	want []string // each must appear in stdout+stderr
}

// TestNewUserJourney is the first hour of a new user, end to end with the
// built binary: a fresh HOME (no ASSAY_HOME, no keys), an empty project.
// try -> quickstart -> flow adopt --apply on a sample app -> flow ci --apply
// -> flow audit --apply; then the bundle verifies and verify-signer passes
// against the key the lock pins. Every step's output is checked, not only
// its exit code, and the whole journey passes a second time in the same
// directory. The figures (commands, wall time) are logged.
func TestNewUserJourney(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed for the journey (the sample app)")
	}
	bin := gfBinary(t)
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	home, proj := t.TempDir(), t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"ASSAY_BIN=" + bin, "ASSAY_UPSTREAM_OPENAI=" + srv.URL() + "/v1", "OPENAI_BASE_URL=" + srv.URL() + "/v1"}
	for _, k := range []string{"LANG", "TMPDIR", "PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if err := os.WriteFile(filepath.Join(proj, "app.py"), []byte(journeyApp), 0o644); err != nil {
		t.Fatal(err)
	}
	const bundle = "audit_bundle_proof_pack_baseline.tar.gz"
	steps := []journeyStep{
		{[]string{"try"}, 0, []string{"TAMPERED (exit 2)", "One changed byte"}},
		{[]string{"quickstart"}, 0, []string{"challenge_pack/good", "PASS"}},
		{[]string{"flow", "adopt", "--apply", "--param", "gateway=true"}, 0, []string{"assay flow adopt -- OK", "Find the LLM call sites", "Verify the pack"}},
		{[]string{"flow", "ci", "--apply", "--param", "gateway=true"}, 0, []string{"assay flow ci -- OK", "Lock the claims CI checks", "Verify the baseline against the lock"}},
		{[]string{"flow", "audit", "--apply"}, 0, []string{"assay flow audit -- OK", "Bundle it for the auditor", "Check who signed it"}},
		{[]string{"verify-pack", bundle}, 0, []string{"PASS"}},
		{[]string{"verify-signer", "proof_pack_baseline", "--allowed-signers", "assay.lock"}, 0, []string{"SIGNER OK", "--allowed-signers: ok"}},
		{[]string{"lock", "check"}, 0, []string{"VALID assay.lock", "signer policy allowlist"}},
		{[]string{"verify-pack", "--latest"}, 0, []string{"PASS"}},
	}
	start := time.Now()
	n := 0
	for round := 1; round <= 2; round++ {
		for _, s := range steps {
			n++
			cmd := exec.Command(bin, s.argv...)
			cmd.Dir, cmd.Env = proj, env
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != s.code {
				t.Fatalf("round %d: assay %s exited %d, want %d\n%s", round, strings.Join(s.argv, " "), code, s.code, out)
			}
			for _, w := range s.want {
				if !strings.Contains(string(out), w) {
					t.Fatalf("round %d: assay %s: output lacks %q\n%s", round, strings.Join(s.argv, " "), w, out)
				}
			}
		}
		// The lock pins the key that signed the packs: the new user's own.
		ks := keys.Open(filepath.Join(home, ".assay"))
		fp, err := ks.FingerprintOf(ks.Active())
		if err != nil {
			t.Fatalf("round %d: no active key in the fresh home: %v", round, err)
		}
		lock, _ := os.ReadFile(filepath.Join(proj, "assay.lock"))
		if !strings.Contains(string(lock), fp) || !strings.Contains(string(lock), `"mode": "allowlist"`) {
			t.Fatalf("round %d: the lock does not pin the active key %s:\n%s", round, fp, lock)
		}
	}
	if srv.Requests() < 1 {
		t.Fatal("the sample app never reached the synthetic LLM server")
	}
	t.Logf("journey: %d commands (%d per round, 2 rounds), wall time %s", n, len(steps), time.Since(start).Round(time.Millisecond))
}
