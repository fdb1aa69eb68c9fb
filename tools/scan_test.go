package tools

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/coverage"
)

const pyApp = `from openai import OpenAI

client = OpenAI()

def ask(q):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": q}])

def again(q):
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])
`

func TestScan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mustWrite(t, filepath.Join(e.root, "app", "agent.py"), []byte(pyApp))
	var s ScanResult
	e.ok("scan", map[string]any{}, &s)
	if s.Summary.SitesTotal != 2 || s.Summary.Uninstrumented != 2 || len(s.Findings) != 2 || s.Findings[0].Path != "app/agent.py" || s.NextOffset != nil {
		t.Fatalf("scan %+v", s)
	}
	// Paging.
	var p1, p2 ScanResult
	e.ok("scan", map[string]any{"path": "app", "limit": 1}, &p1)
	if len(p1.Findings) != 1 || p1.NextOffset == nil || *p1.NextOffset != 1 || p1.Summary.SitesTotal != 2 {
		t.Fatalf("page 1 %+v", p1)
	}
	e.ok("scan", map[string]any{"path": "app", "limit": 1, "offset": 1}, &p2)
	if len(p2.Findings) != 1 || p2.NextOffset != nil || p2.Findings[0].Line == p1.Findings[0].Line {
		t.Fatalf("page 2 %+v", p2)
	}
	// Language filter.
	var g ScanResult
	e.ok("scan", map[string]any{"languages": []string{"go"}}, &g)
	if g.Summary.SitesTotal != 0 {
		t.Fatalf("go-only scan found python sites: %+v", g)
	}
	// Contract and report, new files only.
	var w ScanResult
	e.ok("scan", map[string]any{"contract": "out/contract.json", "report": "out/gaps.html"}, &w)
	// Contract and report come from the same rules as the CLI: LOW sites
	// only with include_low.
	c, err := coverage.Load(w.ContractPath)
	if err != nil || len(c.CallSites) != 2 {
		t.Fatalf("contract %v %+v", err, c)
	}
	for _, f := range []string{"out/gaps.html", "out/gaps.json"} {
		if _, err := os.Stat(filepath.Join(e.root, f)); err != nil {
			t.Fatal(err)
		}
	}
	e.fails("scan", map[string]any{"contract": "out/contract.json"}, "already exists")
	e.fails("scan", map[string]any{"path": "/usr"}, "outside the allowed roots")
	e.fails("scan", map[string]any{"path": "missing"}, "missing")
	e.fails("scan", map[string]any{"languages": []string{"rust"}}, "invalid arguments")
	e.fails("scan", map[string]any{"min_confidence": "certain"}, "invalid arguments")
}
