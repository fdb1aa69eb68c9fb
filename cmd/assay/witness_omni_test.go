package main

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// omniwitnessVersion is the transparency-dev/witness version the tests run
// (scripts/setup.d/50-omniwitness.sh installs the same).
const omniwitnessVersion = "v0.0.0-20260720115447-2e1c6971d19e"

var (
	omniOnce sync.Once
	omniPath string
	omniErr  error
)

// omniwitnessBin finds the omniwitness binary on PATH (setup.d puts it in
// $GOPATH/bin), else builds it from the module proxy into the user cache.
func omniwitnessBin(t *testing.T) string {
	t.Helper()
	omniOnce.Do(func() {
		if p, err := exec.LookPath("omniwitness"); err == nil {
			omniPath = p
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			omniErr = err
			return
		}
		bin := filepath.Join(cache, "assay-test-bin", omniwitnessVersion)
		omniPath = filepath.Join(bin, "omniwitness")
		if _, err := os.Stat(omniPath); err == nil {
			return
		}
		cmd := exec.Command("go", "install", "github.com/transparency-dev/witness/cmd/omniwitness@"+omniwitnessVersion)
		cmd.Dir = os.TempDir() // outside this module: go install pkg@version
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			omniErr = fmt.Errorf("go install omniwitness: %v\n%s", err, out)
		}
	})
	if omniErr != nil {
		t.Fatal(omniErr)
	}
	return omniPath
}

// witnessProc is a running omniwitness.
type witnessProc struct {
	name, vkey, url string
}

// startWitness runs a real omniwitness on loopback that knows the log
// (origin, vkey), with a fresh Ed25519 cosigning key; it is stopped when
// the test ends.
func startWitness(t *testing.T, name, logOrigin, logVKey string) witnessProc {
	t.Helper()
	bin := omniwitnessBin(t)
	dir := t.TempDir()
	skey, vkey01, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(vkey01)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "w.sec"), []byte(skey), 0o600)
	os.WriteFile(filepath.Join(dir, "logs.yaml"), []byte(fmt.Sprintf("Logs:\n  - Origin: %s\n    PublicKey: %s\n", logOrigin, logVKey)), 0o644)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--listen="+addr, "--metrics_listen=", "--private_key_path="+filepath.Join(dir, "w.sec"),
		"--additional_logs="+filepath.Join(dir, "logs.yaml"))
	var errb syncBuf
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill() // the process this test started, by its handle
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("omniwitness exited: %s", errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("omniwitness did not listen on %s: %s", addr, errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return witnessProc{name: name, vkey: vkey, url: "http://" + addr}
}

// TestWitnessedAnchor anchors through a log whose checkpoints two real
// omniwitness processes cosign (C2SP tlog-witness), then verifies the
// anchor under witness policies: met (0), quorum not met (2), a flipped
// cosignature byte (2), and refused policies (3).
func TestWitnessedAnchor(t *testing.T) {
	ckProcessEnv(t)
	logDir := t.TempDir()
	origin := fmt.Sprintf("witnessed.test/log-%d", time.Now().UnixNano())
	if code, _, e := ckRun(t, "anchor", copyTree(t, goldenPack), "--log", logDir, "--origin", origin); code != 0 {
		t.Fatal(e)
	}
	vkeyRaw, _ := os.ReadFile(filepath.Join(logDir, "log.vkey"))
	logVKey := strings.TrimSpace(string(vkeyRaw))
	w1 := startWitness(t, "witness.test/w1", origin, logVKey)
	w2 := startWitness(t, "witness.test/w2", origin, logVKey)
	_, offline3, _ := note.GenerateKey(rand.Reader, "witness.test/w3")
	w3vkey, _ := fnote.VKeyToCosignatureV1(offline3)
	pdir := t.TempDir()
	pol := func(name, text string) string {
		p := filepath.Join(pdir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	ws := fmt.Sprintf("witness w1 %s %s\nwitness w2 %s %s\nwitness w3 %s\n", w1.vkey, w1.url, w2.vkey, w2.url, w3vkey)
	anchorPolicy := pol("anchor", fmt.Sprintf("witness w1 %s %s\nwitness w2 %s %s\ngroup both all w1 w2\nquorum both\n", w1.vkey, w1.url, w2.vkey, w2.url))
	twoOfThree := pol("2of3", ws+"group g 2 w1 w2 w3\nquorum g\n")
	all3 := pol("all", ws+"group g all w1 w2 w3\nquorum g\n")

	p := copyTree(t, goldenPack)
	if code, o, e := ckRun(t, "anchor", p, "--log", logDir, "--witness-policy", anchorPolicy); code != 0 {
		t.Fatalf("witnessed anchor: exit %d %q %q", code, o, e)
	}
	a, _ := os.ReadFile(filepath.Join(p, "_unsigned", "anchor.json"))
	if !strings.Contains(string(a), "— witness.test/w1 ") || !strings.Contains(string(a), "— witness.test/w2 ") {
		t.Fatalf("checkpoint not cosigned: %s", a)
	}
	var res struct {
		Gates []struct{ Detail string }
	}
	code, o, _ := ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", logVKey, "--witness-policy", twoOfThree, "--json")
	ckJSON(t, o, &res)
	if code != 0 || len(res.Gates) != 1 || !strings.Contains(res.Gates[0].Detail, "witnessed by w1 at ") || !strings.Contains(res.Gates[0].Detail, "quorum 2 of (w1, w2, w3)") {
		t.Fatalf("2 of 3: exit %d %+v", code, res)
	}
	if code, o, _ := ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", logVKey, "--witness-policy", all3); code != 2 || !strings.Contains(o, "quorum 3 of") {
		t.Fatalf("all 3: exit %d\n%s", code, o)
	}
	// Flip one byte inside w2's Ed25519 signature (its key id intact).
	d := copyTree(t, p)
	ap := filepath.Join(d, "_unsigned", "anchor.json")
	raw, _ := os.ReadFile(ap)
	i := strings.Index(string(raw), "— witness.test/w2 ") + len("— witness.test/w2 ") + 30
	raw[i] = map[bool]byte{true: 'B', false: 'A'}[raw[i] == 'A']
	os.WriteFile(ap, raw, 0o644)
	if code, o, _ := ckRun(t, "verify-pack", d, "--require-anchor", "--log-key", logVKey, "--witness-policy", twoOfThree); code != 2 || !strings.Contains(o, "E_ANCHOR_INVALID") {
		t.Fatalf("flipped cosignature: exit %d\n%s", code, o)
	}
	// Refused policies: exit 3 when loading.
	ckOneLine(t, []string{"verify-pack", p, "--witness-policy", pol("zero", ws+"group g 0 w1 w2\nquorum g\n")}, "threshold 0")
	ckOneLine(t, []string{"verify-pack", p, "--witness-policy", pol("dup", ws+"group g 2 w1 w1\nquorum g\n")}, "lists w1 twice")
	ckOneLine(t, []string{"anchor", p, "--log", logDir, "--witness-policy", pol("dup2", ws+"group g 2 w1 w1\nquorum g\n")}, "lists w1 twice")
}
