package main

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/seal"
)

// These tests run `assay recorder serve` as a long-lived service and `assay
// run` against it (ASSAY_RECORDER in its environment), first as one user,
// then with the recorder as its own OS user (issue 20, docs/recorder.md).

// serveProc starts the recorder service and waits until it answers.
func serveProc(t *testing.T, bin, home, sock string, cred *syscall.Credential) {
	t.Helper()
	cmd := exec.Command(bin, "recorder", "serve", "--socket", sock, "--home", home, "--socket-mode", "0666")
	cmd.Env = rtBinEnv("HOME=" + home)
	cmd.Dir = home
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if i > 3000 {
			t.Fatalf("the recorder service never listened:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The recorder service as the same user: the agent can still rewrite the
// recorder's store, and that is detected, as under an in-process recorder.
func TestRecorderServeSameUser(t *testing.T) {
	t.Parallel()
	bin := assayBinary(t)
	base := t.TempDir()
	rhome, agent, work := filepath.Join(base, "recorder"), filepath.Join(base, "agent"), filepath.Join(base, "work")
	for _, d := range []string{rhome, agent, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(base, "recorder.sock")
	serveProc(t, bin, rhome, sock, nil)
	env := rtBinEnv("HOME="+agent, "ASSAY_HOME="+agent, "ASSAY_BIN="+bin, "ASSAY_RECORDER="+sock)
	emit := `"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=web_search >/dev/null && "$ASSAY_BIN" emit guardian_verdict verdict=allow tool=shell >/dev/null`

	clean := rtExec(t, env, work, bin, "run", "--json", "-o", filepath.Join(work, "clean"), "--", "sh", "-c", emit)
	sum := rtSummary(t, clean.stdout)
	if clean.code != 0 || sum["seal"].(map[string]any)["status"] != seal.StatusIntact || sum["n_receipts"] != float64(2) {
		t.Fatalf("clean run through the service: exit %d %v\n%s", clean.code, sum, clean.stderr)
	}
	// The pack is signed by the service's key, not the agent's.
	pub, err := os.ReadFile(filepath.Join(rhome, "keys", "assay-local.pub"))
	if err != nil {
		t.Fatal(err)
	}
	code, res := rtVerify(t, filepath.Join(work, "clean"))
	if code != 0 || res.Pack.Fingerprint != keys.Fingerprint(pub) || res.Seal == nil || res.Seal.Covers != 2 {
		t.Fatalf("verify exit %d, signer %s, seal %+v", code, res.Pack.Fingerprint, res.Seal)
	}

	attack := emit + ` && f=$(ls "` + rhome + `"/*/"$ASSAY_TRACE_ID".jsonl) && sed -i 's/"allow"/"deny"/' "$f"`
	p := rtExec(t, env, work, bin, "run", "--json", "-o", filepath.Join(work, "altered"), "--", "sh", "-c", attack)
	sum = rtSummary(t, p.stdout)
	if p.code == 0 || !strings.Contains(p.stderr, seal.AlteredMessage) || sum["seal"].(map[string]any)["status"] != seal.StatusAltered {
		t.Fatalf("rewrite of the service's store not detected: exit %d %v\n%s", p.code, sum, p.stderr)
	}
	if code, _ := rtVerify(t, filepath.Join(work, "altered")); code == 0 {
		t.Fatal("the pack of an altered run verifies PASS")
	}
}

// ensureUser creates a system user (no home, no login) unless it exists.
func ensureUser(t *testing.T, name string) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already exists") {
			t.Fatalf("useradd %s: %v\n%s", name, err, out)
		}
		if u, err = user.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// The recorder service as its own OS user, the agent as another: the agent
// cannot read the recorder's signing key nor touch what it stored; its
// receipts still reach the seal, and the pack verifies. This creates OS
// users, so it must run as root, which CI does.
func TestRecorderServeSeparateUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test creates OS users with useradd and must run as root (CI runs as root); run it with sudo")
	}
	t.Parallel()
	bin := assayBinary(t)
	recCred, agentCred := ensureUser(t, "assay-rec-test"), ensureUser(t, "assay-agent-test")
	// Both users must be able to run the binary.
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("", "assay-recorder-users-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	rhome, agent, work := filepath.Join(base, "recorder"), filepath.Join(base, "agent"), filepath.Join(base, "work")
	for d, c := range map[string]*syscall.Credential{rhome: recCred, agent: agentCred, work: agentCred} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, int(c.Uid), int(c.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(agent, 0o700)
	sock := filepath.Join(rhome, "recorder.sock")
	serveProc(t, bin, rhome, sock, recCred)

	// The agent records two verdicts, then tries what a compromised agent
	// would: read the recorder's key, rewrite and remove what it stored.
	script := `"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=web_search >/dev/null
"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=shell >/dev/null
R="` + rhome + `"
cat "$R"/keys/*.key >/dev/null 2>&1 && echo key:read || echo key:denied
f=$(ls "$R"/*/"$ASSAY_TRACE_ID".jsonl 2>/dev/null)
[ -n "$f" ] || echo store:found-none
sed -i 's/"allow"/"deny"/' "$f" 2>/dev/null && echo store:rewritten || echo store:denied
echo '{"receipt_id":"r_forged000001","type":"guardian_verdict","timestamp":"2020-01-01T00:00:00+00:00","verdict":"deny"}' >> "$f" 2>/dev/null && echo store:appended || echo append:denied
rm -f "$f" 2>/dev/null; [ -e "$f" ] && echo remove:denied || echo store:removed
cat "$R"/seal/"$ASSAY_TRACE_ID"/log.jsonl >/dev/null 2>&1 && echo seal:read || echo seal:denied
`
	cmd := exec.Command(bin, "run", "--json", "-o", filepath.Join(work, "pack"), "--", "sh", "-c", script)
	cmd.Env = rtBinEnv("HOME="+agent, "ASSAY_HOME="+agent, "ASSAY_BIN="+bin, "ASSAY_RECORDER="+sock)
	cmd.Dir = work
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: agentCred}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil {
		t.Fatalf("run as the agent: %v\n%s%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"key:denied", "store:denied", "append:denied", "remove:denied", "seal:denied"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("the agent was not stopped (%s):\n%s", want, errb.String())
		}
	}
	sum := rtSummary(t, out.String())
	if sum["seal"].(map[string]any)["status"] != seal.StatusIntact || sum["n_receipts"] != float64(2) || sum["run_exit_code"] != float64(0) {
		t.Fatalf("summary %v\n%s", sum, errb.String())
	}
	code, res := rtVerify(t, filepath.Join(work, "pack"))
	if code != 0 || res.Seal == nil || !res.Seal.Verified || res.Seal.Covers != 2 {
		t.Fatalf("verify exit %d seal %+v errors %+v", code, res.Seal, res.Errors)
	}
	// The key is the recorder user's alone.
	st, err := os.Stat(filepath.Join(rhome, "keys", "assay-local.key"))
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != recCred.Uid || st.Mode().Perm() != 0o600 {
		t.Fatalf("key owned by %d, mode %v", sys.Uid, st.Mode().Perm())
	}
}
