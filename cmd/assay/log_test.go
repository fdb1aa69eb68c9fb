package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLogServeTeamLog runs `assay log serve`, anchors a pack over HTTP with
// the bearer token, verifies it offline against the served key, checks
// consistency over the tiles API, and refuses appends without the token.
func TestLogServeTeamLog(t *testing.T) {
	ckProcessEnv(t)
	logDir := t.TempDir()
	ckSetenv(t, "ASSAY_LOG_TOKEN", "team-token-0123456789")
	var out, errb syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"log", "serve", "--log", logDir, "--addr", "127.0.0.1:0", "--origin", "team.test/log"}, strings.NewReader(""), &out, &errb)
	}()
	s := waitFor(t, &out, ")\n")
	m := regexp.MustCompile(`^serving team.test/log on (http://127\.0\.0\.1:\d+/) \(vkey (\S+)\)\n$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("stdout %q", s)
	}
	url, vkey := m[1], m[2]
	p := copyTree(t, goldenPack)
	if code, o, e := ckRun(t, "anchor", p, "--log", url, "--log-key", vkey); code != 0 || !strings.Contains(o, "entry 0 of team.test/log") {
		t.Fatalf("anchor over HTTP: exit %d %q %q", code, o, e)
	}
	a, _ := os.ReadFile(filepath.Join(p, "_unsigned", "anchor.json"))
	if !strings.Contains(string(a), `"log_url": "`+url+`"`) {
		t.Fatalf("anchor.json does not name the team log: %s", a)
	}
	if code, o, _ := ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", vkey); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, o)
	}
	p2 := copyTree(t, goldenPack)
	ckRun(t, "anchor", p2, "--log", url)
	if code, o, e := ckRun(t, "log", "verify", "--log", url, "--log-key", vkey, p, p2); code != 0 || strings.Count(o, "CONSISTENT") != 2 {
		t.Fatalf("log verify over HTTP: exit %d %q %q", code, o, e)
	}
	// The served key is the key the log signs with.
	resp, err := http.Get(url + "log.vkey")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(b)) != vkey {
		t.Fatalf("log.vkey %q", b)
	}
	// Private state is not served.
	for _, path := range []string{".state/treeState", "../log.key", "log.key", "tile/../../log.key"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatalf("%s is served", path)
		}
	}
	ckSetenv(t, "ASSAY_LOG_TOKEN", "wrong-token-0123456789")
	if code, _, e := ckRun(t, "anchor", copyTree(t, goldenPack), "--log", url); code != 1 || !strings.Contains(e, "401") || strings.Contains(e, "wrong-token") {
		t.Fatalf("wrong token: exit %d %q", code, e)
	}
	ckSetenv(t, "ASSAY_LOG_TOKEN", "")
	ckOneLine(t, []string{"anchor", p, "--log", url}, "ASSAY_LOG_TOKEN")
	ckOneLine(t, []string{"anchor", p, "--log", "http://example.com/log/", "--token-file", "/dev/null"}, "only to localhost")
	stopOnSIGINT(t, "log serve", done, &errb)
}

// TestLogVerifySplitView: two logs with the same key and origin diverge;
// `log verify` exits 2 and names both checkpoints.
func TestLogVerifySplitView(t *testing.T) {
	t.Parallel()
	home, dir := ckEnv(t)
	a, b := t.TempDir(), t.TempDir()
	pa := copyTree(t, goldenPack)
	if code, _, e := ckRun(t, "anchor", pa, "--log", a, "--origin", "split.test/log"); code != 0 {
		t.Fatal(e)
	}
	for _, f := range []string{"log.key", "log.vkey"} {
		raw, _ := os.ReadFile(filepath.Join(a, f))
		os.WriteFile(filepath.Join(b, f), raw, 0o600)
	}
	// Another history in b: a different first entry, then two more.
	other := ckPack(t, home, filepath.Join(dir, "other"), nil, "m1")
	// (one command each: order within a batch is not defined)
	for _, p := range []string{other, copyTree(t, goldenPack), copyTree(t, goldenPack)} {
		if code, _, e := ckRun(t, "anchor", p, "--log", b); code != 0 {
			t.Fatal(e)
		}
	}
	if code, o, _ := ckRun(t, "log", "verify", "--log", a, pa); code != 0 || !strings.Contains(o, "CONSISTENT") {
		t.Fatalf("own log: exit %d\n%s", code, o)
	}
	code, o, _ := ckRun(t, "log", "verify", "--log", b, pa)
	if code != 2 || !strings.Contains(o, "SPLIT VIEW") || !strings.Contains(o, "split.test/log size 1 root") || !strings.Contains(o, "split.test/log size 3 root") {
		t.Fatalf("split view: exit %d\n%s", code, o)
	}
	var rep struct {
		OK        bool `json:"ok"`
		SplitView []struct {
			Size uint64 `json:"size"`
			Root string `json:"root_hash"`
		} `json:"split_view"`
	}
	code, o, _ = ckRun(t, "log", "verify", "--log", b, pa, "--json")
	ckJSON(t, o, &rep)
	if code != 2 || rep.OK || len(rep.SplitView) != 2 || rep.SplitView[0].Root == rep.SplitView[1].Root {
		t.Fatalf("json: exit %d %+v", code, rep)
	}
	if code, _, _ := ckRun(t, "log", "verify", "--log", a, copyTree(t, goldenPack)); code != 1 {
		t.Fatalf("unanchored pack: exit %d", code)
	}
	ckOneLine(t, []string{"log", "verify", "--log", t.TempDir()}, "holds no log")
}
