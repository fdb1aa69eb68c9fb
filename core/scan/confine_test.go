package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// callPy is a file with one uninstrumented HIGH finding.
const callPy = "import openai\nclient = openai.OpenAI()\nclient.chat.completions.create(model='m', messages=[])\n"

// confineTree builds root/ with one real call site, and outside/ (next to
// it) holding call sites that must never be counted, and a FIFO that
// blocks any reader that opens it.
func confineTree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(outside, "pkg")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range map[string]string{
		filepath.Join(root, "app.py"):           callPy,
		filepath.Join(outside, "secret.py"):     callPy,
		filepath.Join(outside, "pkg", "mod.py"): callPy + callPy,
	} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(outside, "trap.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

// Links out of the scanned root (files and directories, relative and
// absolute, to a file or to a FIFO) are never followed: the outside call
// sites are not counted, and each file link is listed as refused. A run
// that opened the outside FIFO would block here forever.
func TestScanDoesNotFollowLinksOut(t *testing.T) {
	t.Parallel()
	root, outside := confineTree(t)
	links := map[string]string{
		"rel.py":      "../outside/secret.py",
		"abs.py":      filepath.Join(outside, "secret.py"),
		"trap.py":     "../outside/trap.py",
		"pkglink":     "../outside/pkg",
		"pkglink2.py": filepath.Join(outside, "pkg"),
		"inside.py":   "app.py", // a link inside the root is followed
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Scan(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]int{}
	for _, f := range res.Findings {
		paths[f.Path]++
	}
	if len(paths) != 2 || paths["app.py"] != 1 || paths["inside.py"] != 1 {
		t.Fatalf("findings %v: want app.py and inside.py only", paths)
	}
	refused := map[string]string{}
	for _, s := range res.Refused() {
		refused[s.Path] = s.Reason
	}
	want := map[string]string{"rel.py": ReasonOutside, "abs.py": ReasonOutside, "trap.py": ReasonOutside, "pkglink2.py": ReasonOutside}
	if len(refused) != len(want) {
		t.Errorf("refused %v, want %v", refused, want)
	}
	for p, r := range want {
		if refused[p] != r {
			t.Errorf("%s: refused %q, want %q", p, refused[p], r)
		}
	}
	// The JSON document lists them with the reason.
	b, err := json.Marshal(res.Document("ok"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"refused_files":[{"path":"abs.py","reason":"links outside the scanned root"}`) {
		t.Errorf("document: %s", b)
	}
}

// A FIFO or a device in the tree is listed as refused without being
// opened (opening a FIFO for reading blocks until a writer comes: this
// test would hang).
func TestScanRefusesFIFOsAndDevices(t *testing.T) {
	t.Parallel()
	root, _ := confineTree(t)
	if err := syscall.Mkfifo(filepath.Join(root, "pipe.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(root, "zero.py")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("pipe.py", filepath.Join(root, "pipe2.go")); err != nil {
		t.Fatal(err)
	}
	res, err := Scan(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range res.Refused() {
		got[s.Path] = s.Reason
	}
	want := map[string]string{"pipe.py": ReasonNotRegular, "pipe2.go": ReasonNotRegular, "zero.py": ReasonOutside}
	for p, r := range want {
		if got[p] != r {
			t.Errorf("%s: %q, want %q (all: %v)", p, got[p], r, got)
		}
	}
	if s := res.Summary(); s.SitesTotal != 1 {
		t.Errorf("sites %d, want 1", s.SitesTotal)
	}
}

// Files over the byte cap are listed as refused and not read; the default
// cap is DefaultMaxFileBytes; a negative cap reads everything.
func TestScanCapsBytesPerFile(t *testing.T) {
	t.Parallel()
	root, _ := confineTree(t)
	big := callPy + "#" + strings.Repeat("x", DefaultMaxFileBytes) + "\n"
	if err := os.WriteFile(filepath.Join(root, "big.py"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		max      int64
		refused  bool
		sites    int
		maxBytes int64
	}{
		{0, true, 1, int64(len(callPy))},
		{int64(len(callPy)) - 1, true, 0, 0},
		{-1, false, 2, int64(len(callPy) + len(big))},
	} {
		res, err := Scan(root, Options{MaxFileSize: c.max})
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, s := range res.Refused() {
			if s.Path == "big.py" {
				reasons = append(reasons, s.Reason)
			}
		}
		if c.refused != (len(reasons) == 1 && strings.HasPrefix(reasons[0], "larger than ")) {
			t.Errorf("max %d: refused %v", c.max, reasons)
		}
		if s := res.Summary(); s.SitesTotal != c.sites || res.Bytes != c.maxBytes {
			t.Errorf("max %d: %d sites, %d bytes read; want %d, %d", c.max, s.SitesTotal, res.Bytes, c.sites, c.maxBytes)
		}
	}
}
