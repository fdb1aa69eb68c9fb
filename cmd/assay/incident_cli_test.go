package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/incident"
	"github.com/assay-dev/assay/core/incident/incidenttest"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/schemas/schematest"
)

// recordMCPPack records incidenttest.Session through the real proxy in
// front of 'assay mcp demo-server' (this test binary acting as the CLI)
// with no policy, arguments stored, and returns the pack.
func recordMCPPack(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return incidenttest.Record(t, incidenttest.Options{
		ServerArgv: []string{exe, "mcp", "demo-server"}, ServerEnv: []string{envAsCLI + "=1"},
		StoreArgs: true, Calls: incidenttest.Session,
	})
}

// incident replay shows, per recorded call, the recorded and the candidate
// decision and the rule; lookalike tool names are shown escaped; the
// summary counts what would newly be denied; --json validates against the
// checked-in schema; a tampered pack exits 2; bad input exits 3.
func TestIncidentReplayCommand(t *testing.T) {
	dir := recordMCPPack(t)
	pol := filepath.Join(t.TempDir(), "candidate.yaml")
	os.WriteFile(pol, []byte("mode: enforce\ntools:\n  deny: [\"delete_*\", \"get_*\"]\n"), 0o644)

	code, out, errs := ckRun(t, "incident", "replay", dir, "-p", pol)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"Policy replay:", "mode enforce", "pack verified: integrity PASS",
		"get_weather", `"g\u0435t_weather"`, "tools.deny[1]", "tools.deny[0]", "NEWLY DENIED",
		"Summary: 9 call(s); would newly deny 2, would newly allow 0; unchanged 7; not evaluated 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "note: the candidate is in audit mode") {
		t.Errorf("enforce candidate noted as audit:\n%s", out)
	}
	code, out, _ = ckRun(t, "incident", "replay", dir, "-p", pol, "--changes-only")
	if code != 0 || strings.Contains(out, "check_inventory") || !strings.Contains(out, "delete_records") {
		t.Errorf("--changes-only:\n%s", out)
	}

	code, out, _ = ckRun(t, "incident", "replay", dir, "--policy", pol, "--json")
	var r incident.Result
	ckJSON(t, out, &r)
	if code != 0 || r.Summary.NewlyDenied != 2 || len(r.Calls) != 9 || r.Calls[7].Rule != "tools.deny[0]" || r.Calls[0].Rule != "tools.deny[1]" || r.Calls[2].Tool != "gеt_weather" {
		t.Errorf("--json: %d %+v", code, r.Summary)
	}
	sch, err := incident.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Valid(schematest.Compile(t, sch), []byte(out)); err != nil {
		t.Errorf("--json does not validate: %v", err)
	}

	// Tampered: one byte of a recorded tool name changed.
	tampered := copyTree(t, dir)
	rp := filepath.Join(tampered, pack.FileReceipts)
	b, _ := os.ReadFile(rp)
	os.WriteFile(rp, []byte(strings.Replace(string(b), `"check_inventory"`, `"check_inventorz"`, 1)), 0o644)
	code, out, errs = ckRun(t, "incident", "replay", tampered, "-p", pol)
	if code != 2 || out != "" || !strings.Contains(errs, "failed verification") {
		t.Errorf("tampered: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	c, err := demo.BuildChallenge(filepath.Join(t.TempDir(), "c"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = ckRun(t, "incident", "replay", filepath.Join(c.Dir, "tampered"), "-p", pol, "--json")
	if code != 2 || !strings.Contains(out, `"exit_code": 2`) {
		t.Errorf("tampered --json: %d %s", code, out)
	}

	ckOneLine(t, []string{"incident", "replay", dir}, "needs -p POLICY")
	ckOneLine(t, []string{"incident", "replay", dir, "-p", filepath.Join(dir, "missing.yaml")}, "does not exist")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("tools:\n  dney: [x]\n"), 0o644)
	ckOneLine(t, []string{"incident", "replay", dir, "-p", bad}, "dney")
	ckOneLine(t, []string{"incident", "replay", filepath.Join(dir, "nope"), "-p", pol}, "pack not found")
	ckOneLine(t, []string{"incident", "replay", dir, "-p", ""}, "--policy is empty")
}
