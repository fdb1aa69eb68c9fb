package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/assay-dev/assay/core/keys"
)

// workflowStep returns the run script of the named step of the generated
// workflow's assay-verify job.
func workflowStep(t *testing.T, path, name string) (script string, env map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string            `yaml:"name"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	for _, s := range wf.Jobs["assay-verify"].Steps {
		if s.Name == name {
			return s.Run, s.Env
		}
	}
	t.Fatalf("no step %q in %s", name, path)
	return "", nil
}

// The workflow's key step, run as GitHub would run it (bash, the real assay
// on PATH, a fresh runner home): without the secret it fails naming the
// secret; with the secret 'ci init' says to create, it imports the team's
// key, writes no file into the checkout, and a pack signed on the "runner"
// passes verify-pack --lock against the lock written on the laptop.
func TestCIWorkflowImportsTeamKey(t *testing.T) {
	bin := gfBinary(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to run the workflow step")
	}
	laptop, _ := ckProcessEnv(t)
	repo := t.TempDir()
	t.Chdir(repo)
	code, out, errs := ckRun(t, "ci", "init", "github", "--run-command", "python3 app.py")
	if code != 0 || !strings.Contains(out, "assay key export --secret | gh secret set ASSAY_SIGNING_KEY") {
		t.Fatalf("ci init: %d %q %q", code, out, errs)
	}
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness"); code != 0 {
		t.Fatalf("lock write: %q", errs)
	}
	script, stepEnv := workflowStep(t, filepath.Join(repo, ".github/workflows/assay-verify.yml"), "Import the team's signing key")
	if stepEnv["ASSAY_SIGNING_KEY"] != "${{ secrets.ASSAY_SIGNING_KEY }}" {
		t.Fatalf("step env %v", stepEnv)
	}
	// The export half of 'ci init's command (gh is not here): stdout is
	// not a terminal in a test, as in a pipe.
	code, secret, errs := ckRun(t, "key", "export", "--secret")
	if code != 0 || strings.Count(secret, "\n") != 1 {
		t.Fatalf("key export --secret: %d %q", code, errs)
	}
	before, _ := os.ReadDir(repo)

	runner := t.TempDir()
	pathEnv := "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	env := rtBinEnv(pathEnv, "ASSAY_HOME="+runner)
	missing := rtExec(t, env, repo, bash, "-e", "-c", script)
	if missing.code != 1 || !strings.Contains(missing.stdout, "::error::The repository secret ASSAY_SIGNING_KEY is not set") || !strings.Contains(missing.stdout, "gh secret set ASSAY_SIGNING_KEY") {
		t.Fatalf("no secret: %+v", missing)
	}
	got := rtExec(t, append(env, "ASSAY_SIGNING_KEY="+strings.TrimSpace(secret)), repo, bash, "-e", "-c", script)
	if got.code != 0 || !strings.Contains(got.stdout, "Imported key pair ci from environment variable ASSAY_SIGNING_KEY") {
		t.Fatalf("with the secret: %+v", got)
	}
	// The secret never lands in the checkout, nor in any output.
	after, _ := os.ReadDir(repo)
	if len(after) != len(before) || strings.Contains(got.stdout+got.stderr, strings.TrimSpace(secret)) {
		t.Fatalf("the import left files or echoed the key: %v -> %v", before, after)
	}
	lk, rk := keys.Open(laptop), keys.Open(runner)
	lfp, _ := lk.FingerprintOf(lk.Active())
	if rk.Active() != "ci" {
		t.Fatalf("runner's active signer %q", rk.Active())
	}
	if rfp, _ := rk.FingerprintOf("ci"); rfp != lfp {
		t.Fatalf("runner key %s, laptop key %s", rfp, lfp)
	}
	ckSetenv(t, "ASSAY_HOME", runner)
	pk := ckPack(t, runner, filepath.Join(repo, "proof_pack_ci"), []string{"receipt_completeness"}, "gpt-4o")
	if code, out, _ := ckRun(t, "verify-pack", pk, "--lock", "assay.lock"); code != 0 {
		t.Fatalf("runner's pack against the laptop's lock: %d %q", code, out)
	}
}

// key import reads a key secret from stdin too, and refuses an unset
// variable with one line naming it.
func TestKeyImportSecretInputs(t *testing.T) {
	home, _ := ckProcessEnv(t)
	src := keys.Open(t.TempDir())
	if _, err := src.Generate("team"); err != nil {
		t.Fatal(err)
	}
	sec, _ := src.Secret("team")
	var outb, errb strings.Builder
	if code := run([]string{"key", "import", "--private", "-", "--signer", "team", "--set-active"}, strings.NewReader(sec+"\n"), &outb, &errb); code != 0 {
		t.Fatalf("stdin import: %d %q", code, errb.String())
	}
	if keys.Open(home).Active() != "team" {
		t.Error("--set-active from stdin")
	}
	ckSetenv(t, "NO_SUCH_SECRET_I16", "")
	ckOneLine(t, []string{"key", "import", "--private-env", "NO_SUCH_SECRET_I16"}, "environment variable NO_SUCH_SECRET_I16 is empty or unset")
	ckSetenv(t, "BAD_SECRET_I16", "not-a-key")
	ckOneLine(t, []string{"key", "import", "--private-env", "BAD_SECRET_I16"}, "does not hold a key secret")
	ckOneLine(t, []string{"key", "export", "--secret", "--private"}, "--secret does not combine")
}
