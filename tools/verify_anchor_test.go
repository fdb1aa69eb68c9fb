package tools

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/tlog/anchortest"
)

// The MCP verify-pack tool runs the same anchor gate as the CLI (core/check):
// absent and required → 1, anchored → 0 with what the anchor proves, another
// log's key → 2, a key file outside the roots refused.
func TestVerifyPackAnchorGate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := sessionPack(t, e, "p1")

	var v VerifyResult
	e.ok("verify-pack", map[string]any{"path": "p1", "require_anchor": true}, &v)
	if v.Verdict != "HONEST_FAIL" || v.ExitCode != 1 || !gateFailed(v, "anchor") {
		t.Fatalf("unanchored pack with require_anchor: %+v", v)
	}

	vkey := anchortest.Anchor(t, b.Pack.Dir, filepath.Join(e.root, "log"), "assay.test/tools-log")
	v = VerifyResult{}
	e.ok("verify-pack", map[string]any{"path": "p1", "require_anchor": true, "log_key": vkey}, &v)
	if v.Verdict != "PASS" || v.ExitCode != 0 || !gatePassedWith(v, "anchor", "assay.test/tools-log") {
		t.Fatalf("anchored pack: %+v", v)
	}
	// The key given as a file inside the roots works the same.
	mustWrite(t, filepath.Join(e.root, "log.vkey"), []byte(vkey))
	v = VerifyResult{}
	e.ok("verify-pack", map[string]any{"path": "p1", "require_anchor": true, "log_key": "log.vkey"}, &v)
	if v.ExitCode != 0 {
		t.Fatalf("anchored pack, key from a file: %+v", v)
	}

	// Another log's key: the anchor does not verify under it → tampered.
	otherLog, err := tlog.OpenKeys(t.TempDir(), "assay.test/other-log")
	if err != nil {
		t.Fatal(err)
	}
	v = VerifyResult{}
	e.ok("verify-pack", map[string]any{"path": "p1", "log_key": otherLog.VKey}, &v)
	if v.Verdict != "TAMPERED" || v.ExitCode != 2 {
		t.Fatalf("anchor checked under another log's key: %+v", v)
	}
	// A key file or policy outside the roots is refused before any reading.
	e.fails("verify-pack", map[string]any{"path": "p1", "log_key": "/etc/passwd"}, "outside the allowed roots")
	e.fails("verify-pack", map[string]any{"path": "p1", "witness_policy": "/etc/passwd"}, "outside the allowed roots")
}

func gateFailed(v VerifyResult, name string) bool {
	for _, g := range v.Gates {
		if g.Name == name && !g.Passed {
			return true
		}
	}
	return false
}

func gatePassedWith(v VerifyResult, name, detail string) bool {
	for _, g := range v.Gates {
		if g.Name == name && g.Passed && strings.Contains(g.Detail, detail) {
			return true
		}
	}
	return false
}
