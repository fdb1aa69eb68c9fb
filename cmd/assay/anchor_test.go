package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Absolute paths: ckEnv changes the working directory.
var (
	goldenPack, _ = filepath.Abs("../../testdata/vectors/pack/golden_minimal")
	refVerify, _  = filepath.Abs("../../testdata/refcheck/refverify.py")
)

// TestAnchorVerifyPackExitCodes: anchor → verify-pack --require-anchor exits
// 0; the pack still passes the reference reading rules; an unanchored pack
// exits 1; a pack changed after anchoring, a changed proof or checkpoint
// exit 2; a wrong pinned key exits 2.
func TestAnchorVerifyPackExitCodes(t *testing.T) {
	home, _ := ckProcessEnv(t)
	p := copyTree(t, goldenPack)
	bare := copyTree(t, goldenPack)
	code, out, errs := ckRun(t, "anchor", p)
	if code != 0 || !strings.Contains(out, "entry 0 of assay.local/log-") || errs != "" {
		t.Fatalf("anchor: exit %d, %q, %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(home, "log", "tiles", "checkpoint")); err != nil {
		t.Fatalf("the default log was not created under $ASSAY_HOME/log: %v", err)
	}
	vkey := filepath.Join(home, "log", "log.vkey")
	if code, out, _ := ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", vkey); code != 0 || !strings.Contains(out, "Gate         anchor: passed") {
		t.Fatalf("anchored pack: exit %d\n%s", code, out)
	}
	var res struct {
		Gates []struct {
			Name, Detail string
			Passed       bool
		}
	}
	code, out, _ = ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", vkey, "--json")
	ckJSON(t, out, &res)
	if code != 0 || len(res.Gates) != 1 || !strings.Contains(res.Gates[0].Detail, "entry 0 of assay.local/log-") {
		t.Fatalf("json: exit %d %+v", code, res)
	}
	// Anchoring adds only _unsigned/anchor.json: the reference's reading
	// rules still accept the pack.
	if out, err := exec.Command("python3", refVerify, p).CombinedOutput(); err != nil || string(out) != "PASS\n" {
		t.Fatalf("reference reading rules reject the anchored pack: %v %s", err, out)
	}
	if code, out, _ := ckRun(t, "verify-pack", bare, "--require-anchor"); code != 1 || !strings.Contains(out, "E_ANCHOR_MISSING") {
		t.Fatalf("unanchored pack: exit %d\n%s", code, out)
	}
	if code, _, _ := ckRun(t, "verify-pack", bare); code != 0 {
		t.Fatalf("unanchored pack without the gate: exit %d", code)
	}

	// An audit bundle carries the anchor; verify-pack checks it inside.
	bundlePath := filepath.Join(t.TempDir(), "b.tar.gz")
	if code, _, e := ckRun(t, "audit", "bundle", p, "-o", bundlePath); code != 0 {
		t.Fatal(e)
	}
	if code, out, _ := ckRun(t, "verify-pack", bundlePath, "--require-anchor", "--log-key", vkey); code != 0 || !strings.Contains(out, "anchor: passed") {
		t.Fatalf("bundle: exit %d\n%s", code, out)
	}

	anchorPath := filepath.Join("_unsigned", "anchor.json")
	for name, edit := range map[string]func(d string){
		"receipts byte": func(d string) { flipFileByte(t, filepath.Join(d, "receipt_pack.jsonl"), 10) },
		"proof line": func(d string) {
			replaceIn(t, filepath.Join(d, anchorPath), `\nindex 0\n`, `\nindex 1\n`)
		},
		"checkpoint root": func(d string) {
			a, _ := os.ReadFile(filepath.Join(d, anchorPath))
			s := string(a)
			i := strings.Index(s, `\n1\n`) + 4 // the root line follows the size
			b := []byte(s)
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			os.WriteFile(filepath.Join(d, anchorPath), b, 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := copyTree(t, p)
			edit(d)
			if code, out, _ := ckRun(t, "verify-pack", d, "--require-anchor", "--log-key", vkey); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, out)
			}
		})
	}
	other := t.TempDir()
	if code, _, errs := ckRun(t, "anchor", copyTree(t, goldenPack), "--log", other); code != 0 {
		t.Fatal(errs)
	}
	if code, out, _ := ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", filepath.Join(other, "log.vkey")); code != 2 || !strings.Contains(out, "E_ANCHOR_INVALID") {
		t.Fatalf("other log's key: exit %d\n%s", code, out)
	}
}

func TestAnchorBadInput(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	ckOneLine(t, []string{"verify-pack", goldenPack, "--log-key", "not-a-key"}, "--log-key")
	ckOneLine(t, []string{"anchor", "/nonexistent/pack"}, "pack not found")
	pol := filepath.Join(t.TempDir(), "p.txt")
	os.WriteFile(pol, []byte("quorum nobody\n"), 0o644)
	ckOneLine(t, []string{"verify-pack", goldenPack, "--witness-policy", pol}, "not defined")
}

func flipFileByte(t *testing.T, p string, i int) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[i] ^= 0x01
	os.WriteFile(p, b, 0o644)
}

func replaceIn(t *testing.T, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s: %v, or %q not found", p, err, old)
	}
	os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}
