package tools

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// verify-pack, explain-pack, diff-packs and bundle refuse a pack holding a
// file that links out of it (each kernel file, relative and absolute; a
// directory; a FIFO outside), and the outside file's content (a unique
// marker) appears nowhere: not in the result, not in the session's trace.
// An outside FIFO opened for reading would block the tool forever.
func TestToolsRefusePacksLinkingOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := packstest.DiffFixture(t, filepath.Join(e.root, "packs"), "base")
	outside := t.TempDir() // not under the root
	for _, c := range packstest.LinkCases() {
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join(e.root, "linked", strings.ReplaceAll(c.Name, " ", "_"))
			packstest.Copy(t, base, dir)
			c.Make(t, dir, filepath.Join(outside, strings.ReplaceAll(c.Name, " ", "_")))
			for _, call := range []struct {
				tool string
				args map[string]any
			}{
				{"verify-pack", map[string]any{"path": dir}},
				{"explain-pack", map[string]any{"path": dir}},
				{"diff-packs", map[string]any{"a": base, "b": dir}},
				{"diff-packs", map[string]any{"a": dir, "b": base}},
				{"bundle", map[string]any{"pack": dir, "out": filepath.Join(e.root, "bundles", c.Name+".tar.gz")}},
			} {
				res := e.call(call.tool, call.args)
				all, _ := json.Marshal(res)
				if !res.IsError || !strings.Contains(text(res), "refused") {
					t.Errorf("%s: want a refusal, got %s", call.tool, text(res))
				}
				if strings.Contains(string(all), packstest.Marker) {
					t.Errorf("%s: the outside file's content is in the result: %s", call.tool, all)
				}
			}
			if fsutil.Exists(filepath.Join(e.root, "bundles", c.Name+".tar.gz")) {
				t.Errorf("a bundle of the refused pack was written")
			}
		})
	}
	p, ok, err := e.srv.store.Find(e.srv.TraceID())
	if err != nil || !ok {
		t.Fatalf("trace: %v %v", ok, err)
	}
	tr, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(tr), packstest.Marker) {
		t.Fatal("the outside file's content is in the session's trace")
	}
	// The intact pack is still served.
	var v VerifyResult
	e.ok("verify-pack", map[string]any{"path": base}, &v)
	if v.Integrity != "PASS" {
		t.Fatalf("intact pack: %+v", v)
	}
}

// The tools' outputs are written through their root: an output directory
// that is (or becomes, between the tool's check and its write) a link out
// of the root is refused, nothing is written outside, and an output that
// appeared meanwhile is never replaced.
func TestToolOutputsStayInTheRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	outside := t.TempDir()
	mustWrite(t, filepath.Join(e.root, "app.py"), []byte("import openai\nopenai.OpenAI().chat.completions.create(model='m')\n"))
	before := listing(t, outside)

	// A link already in place: refused by the path check.
	if err := os.Symlink(outside, filepath.Join(e.root, "out")); err != nil {
		t.Fatal(err)
	}
	e.fails("scan", map[string]any{"contract": "out/c.json"}, "outside the allowed roots")
	e.fails("scan", map[string]any{"report": "out/r.html"}, "outside the allowed roots")
	e.fails("bundle", map[string]any{"out": "out/p"}, "outside the allowed roots")

	// A link swapped in after the check: the write through the root is
	// refused.
	c := &Call{Server: e.srv}
	ctx := context.Background()
	for _, name := range []string{"c.json", "r.html"} {
		if err := os.MkdirAll(filepath.Join(e.root, "late"), 0o755); err != nil {
			t.Fatal(err)
		}
		o, err := c.Output(ctx, filepath.Join("late", name))
		if err != nil {
			t.Fatal(err)
		}
		swap(t, filepath.Join(e.root, "late"), outside)
		if err := o.WriteNew([]byte("x")); err == nil || !strings.Contains(err.Error(), "refused, nothing written") {
			t.Errorf("write after the swap: %v", err)
		}
		o.Close()
		os.Remove(filepath.Join(e.root, "late"))
		os.RemoveAll(filepath.Join(e.root, "late.old"))
	}
	if after := listing(t, outside); after != before {
		t.Fatalf("written outside the root:\n%s", after)
	}

	// A file that appeared between the check and the write is kept.
	o, err := c.Output(ctx, "new.json")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	mustWrite(t, filepath.Join(e.root, "new.json"), []byte("theirs"))
	if err := o.WriteNew([]byte("ours")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("write over a file that appeared: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.root, "new.json")); string(b) != "theirs" {
		t.Fatalf("existing file replaced: %q", b)
	}

	// Normal outputs land where asked.
	var sr ScanResult
	e.ok("scan", map[string]any{"contract": "reports/c.json", "report": "reports/r.html"}, &sr)
	for _, p := range []string{"reports/c.json", "reports/r.html", "reports/r.json"} {
		if st, err := os.Lstat(filepath.Join(e.root, p)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// scan over MCP lists the files it refused (a link out of the root, a
// FIFO, a file over max_file_bytes) and never counts what lies outside.
func TestScanToolRefusedFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	outside := t.TempDir()
	call := "import openai\nopenai.OpenAI().chat.completions.create(model='m')\n"
	mustWrite(t, filepath.Join(e.root, "app.py"), []byte(call))
	mustWrite(t, filepath.Join(e.root, "big.py"), []byte(call+"#"+strings.Repeat("x", 100)+"\n"))
	mustWrite(t, filepath.Join(outside, "other.py"), []byte(call))
	if err := os.Symlink(filepath.Join(outside, "other.py"), filepath.Join(e.root, "link.py")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(e.root, "pipe.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	var sr ScanResult
	e.ok("scan", map[string]any{"max_file_bytes": 100}, &sr)
	got := map[string]string{}
	for _, r := range sr.Refused {
		got[r.Path] = r.Reason
	}
	want := map[string]string{"big.py": "larger than 100 bytes", "link.py": "links outside the scanned root", "pipe.py": "not a regular file"}
	if len(got) != len(want) || sr.Summary.SitesTotal != 1 {
		t.Fatalf("refused %v, %d sites; want %v, 1 site", got, sr.Summary.SitesTotal, want)
	}
	for p, r := range want {
		if got[p] != r {
			t.Errorf("%s: %q, want %q", p, got[p], r)
		}
	}
}

// swap replaces the directory dir with a link to target, as an attacker
// racing a writer would.
func swap(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
}

func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		b.WriteString(p + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// scan reads through a root opened inside the allowed root: a scanned
// directory swapped for a link out after the path check is refused, and
// the outside call sites are never counted.
func TestScanToolDirSwappedForALink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	outside := t.TempDir()
	call := []byte("import openai\nopenai.OpenAI().chat.completions.create(model='m')\n")
	mustWrite(t, filepath.Join(outside, "secret.py"), call)
	mustWrite(t, filepath.Join(e.root, "src", "app.py"), call)
	c := &Call{Server: e.srv}
	p, err := c.Path(context.Background(), "src")
	if err != nil {
		t.Fatal(err)
	}
	swap(t, p, outside)
	if sub, err := c.openDirIn(p); err == nil || !strings.Contains(err.Error(), "refused") {
		if sub != nil {
			sub.Close()
		}
		t.Fatalf("open after the swap: %v", err)
	}
	e.fails("scan", map[string]any{"path": "src"}, "outside the allowed roots")
}

// A pack file served as a resource is read through the pack's root: one
// that links out of the pack (even to a file elsewhere under the allowed
// root) is refused and its content never sent.
func TestPackResourceRefusesLinksOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := packstest.DiffFixture(t, filepath.Join(e.root, "packs"), "base")
	dir := filepath.Join(e.root, "packs", "proof_pack_linked")
	packstest.Copy(t, base, dir)
	// The target is inside the allowed root but outside the pack.
	packstest.LinkOut(t, dir, "verify_report.json", filepath.Join(e.root, "elsewhere"), false)
	id := e.srv.registerPack(dir)
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = packURI(id, "verify_report.json")
	got, err := e.cli.ReadResource(context.Background(), rr)
	if err == nil {
		b, _ := json.Marshal(got)
		t.Fatalf("linked pack file served: %s", b)
	}
	if strings.Contains(err.Error(), packstest.Marker) {
		t.Fatalf("error carries the outside content: %v", err)
	}
	// The pack's own files are still served.
	rr.Params.URI = packURI(id, "pack_manifest.json")
	if _, err := e.cli.ReadResource(context.Background(), rr); err != nil {
		t.Fatalf("intact file: %v", err)
	}
}
