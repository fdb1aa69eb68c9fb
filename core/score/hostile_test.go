package score

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/assay-dev/assay/internal/childtest"
)

// hostileChildEnv makes the test binary a child that scores the directory
// it names and prints the facts as JSON (see TestMain), so its peak memory
// is measured alone.
const hostileChildEnv = "ASSAY_SCORE_HOSTILE_CHILD"

func TestMain(m *testing.M) {
	childtest.Main(hostileChildEnv, func(dir string) int {
		res, err := Compute(dir, Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		json.NewEncoder(os.Stdout).Encode(res.Facts)
		return 0
	})
	os.Exit(m.Run())
}

// hostileTree builds a repository an attacker shaped, and the directory
// outside it that its links lead to (with everything that would score:
// a call site, a lock, a workflow, a pack, an MCP session). It returns
// the repository and how many call sites are really in it.
func hostileTree(t *testing.T) (string, int) {
	t.Helper()
	base := t.TempDir()
	out := newRepo(t).lock().workflow().pack("proof_pack_out").file("app.py", pyPlain).
		file(sessionsDir+"/session_1.jsonl", "{}\n")
	r := &repo{t: t, dir: filepath.Join(base, "repo")}
	sites := 0
	// Many files: 4,000 that are not source, 200 that each hold a call.
	for d := 0; d < 40; d++ {
		for f := 0; f < 100; f++ {
			r.file(fmt.Sprintf("data%02d/f%03d.txt", d, f), "x\n")
		}
		for f := 0; f < 5; f++ {
			r.file(fmt.Sprintf("data%02d/m%d.py", d, f), pyPlain)
			sites++
		}
	}
	// Deep nesting: a call 150 directories down.
	r.file(strings.Repeat("n/", 150)+"deep.py", pyPlain)
	sites++
	// Giant files: a sparse 8 GiB Python file and lock (never read past
	// their caps), and Go source nested just under go/parser's own limit
	// (99,000 levels, 20 times over: seconds and hundreds of megabytes of
	// parser stack if it were parsed).
	for _, name := range []string{"giant.py", "giant/assay.lock"} {
		p := filepath.Join(r.dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(8 << 30); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	nest := strings.Repeat("(", 99000) + "1" + strings.Repeat(")", 99000)
	var gosrc strings.Builder
	gosrc.WriteString("package p\n\nimport \"github.com/openai/openai-go\"\n\nvar _ openai.Client\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&gosrc, "var x%d = %s\n", i, nest)
	}
	r.file("nest/nest.go", gosrc.String())
	// A FIFO where source is expected: never opened for reading.
	if err := syscall.Mkfifo(filepath.Join(r.dir, "fifo.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Link loops inside, and links out to everything that would score.
	for link, target := range map[string]string{
		"loop":           ".",
		"data00/back":    "..",
		"up":             "..",
		"ext":            out.dir,
		"ext.py":         filepath.Join(out.dir, "app.py"),
		"proof_pack_ext": filepath.Join(out.dir, "proof_pack_out"),
		".assay":         filepath.Join(out.dir, ".assay"),
		".github":        filepath.Join(out.dir, ".github"),
		"assay.lock":     filepath.Join(out.dir, "assay.lock"),
	} {
		if err := os.Symlink(target, filepath.Join(r.dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return r.dir, sites
}

// Scoring a huge hostile tree stays bounded and confined: every real call
// site is counted and nothing through a link out of the repository (no
// call site, lock, workflow, pack or MCP session of the outside counts),
// link loops are not walked, giant files are not read past their caps, a
// FIFO is not waited on, and deeply nested Go source is not handed to the
// recursive parser; the scoring process's peak memory stays small.
func TestComputeHostileTree(t *testing.T) {
	t.Parallel()
	dir, sites := hostileTree(t)
	out, peakMB := childtest.Run(t, hostileChildEnv, dir, "", "HOME="+t.TempDir())
	var f Facts
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("child printed %q: %v", out, err)
	}
	if f.SitesTotal != sites || len(f.Packs) != 0 || len(f.MCPSessions) != 0 || len(f.Workflows) != 0 || f.CIMentions || f.LockValid {
		t.Errorf("facts %+v, want %d sites and nothing from outside", f, sites)
	}
	t.Logf("peak RSS scoring %d files: %.1f MB", f.FilesScanned, peakMB)
	if peakMB > 100 {
		t.Errorf("peak RSS %.1f MB scoring the hostile tree (bound 100 MB)", peakMB)
	}
}
