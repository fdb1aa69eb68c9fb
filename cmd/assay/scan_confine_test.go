package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// `assay scan` lists what it would not read (a FIFO, a link out of the
// root, a file over --max-file-bytes) in --json and on stderr, and returns
// (a FIFO opened for reading would block it forever).
func TestScanCLIRefusedFiles(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	call := "import openai\nopenai.OpenAI().chat.completions.create(model='m')\n"
	for p, s := range map[string]string{
		filepath.Join(root, "app.py"):      call,
		filepath.Join(root, "big.py"):      call + "# " + strings.Repeat("x", 200) + "\n",
		filepath.Join(outside, "other.py"): call,
	} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "pipe.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/other.py", filepath.Join(root, "link.py")); err != nil {
		t.Fatal(err)
	}
	code, out, _ := ckRun(t, "scan", root, "--json", "--max-file-bytes", "150")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Summary struct {
			SitesTotal int `json:"sites_total"`
		} `json:"summary"`
		Refused []struct{ Path, Reason string } `json:"refused_files"`
	}
	ckJSON(t, out, &doc)
	got := map[string]string{}
	for _, r := range doc.Refused {
		got[r.Path] = r.Reason
	}
	want := map[string]string{"big.py": "larger than 150 bytes", "link.py": "links outside the scanned root", "pipe.py": "not a regular file"}
	if len(got) != len(want) || doc.Summary.SitesTotal != 1 {
		t.Fatalf("refused %v, sites %d; want %v and 1 site", got, doc.Summary.SitesTotal, want)
	}
	for p, r := range want {
		if got[p] != r {
			t.Errorf("%s: %q, want %q", p, got[p], r)
		}
	}
	_, _, errOut := ckRun(t, "scan", root, "--max-file-bytes", "150")
	if !strings.Contains(errOut, "not read: link.py (links outside the scanned root)") {
		t.Errorf("stderr does not name the refused files:\n%s", errOut)
	}
	if code, _, errOut := ckRun(t, "scan", root, "--max-file-bytes", "-1"); code != 3 || !strings.Contains(errOut, "negative") {
		t.Errorf("negative cap: exit %d, %s", code, errOut)
	}
}
