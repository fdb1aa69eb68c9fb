package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/store"
)

// The contract round trip: scan → patch → contract → `assay run` the
// patched sample app against the synthetic LLM server → `verify-pack
// --coverage-contract` reports exactly the covered and uncovered ids.
// Turning off the capture of one SDK (so one call site emits nothing)
// lowers coverage by exactly that site.
func TestScanContractRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	home := t.TempDir()
	t.Setenv(store.EnvHome, home)
	t.Setenv(store.EnvTrace, "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("PYTHONPATH", filepath.Join(patchData, "sdk"))
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1")
	t.Setenv("ASSAY_CAPTURE_SKIP", "")

	app := copyTree(t, filepath.Join(patchData, "projects", "roundtrip"))
	out := t.TempDir()
	if code, o, e := ckRun(t, "patch", app, "--yes"); code != 0 {
		t.Fatalf("patch: %d\n%s%s", code, o, e)
	}
	contract := filepath.Join(app, "assay.coverage.json")
	if code, o, e := ckRun(t, "scan", app, "--emit-contract", contract); code != 0 || !strings.Contains(o, "(2 site(s)") {
		t.Fatalf("scan: %d\n%s%s", code, o, e)
	}
	c, err := coverage.Load(contract)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, s := range c.CallSites {
		ids[filepath.ToSlash(s.Path)] = s.CallsiteID
	}
	openaiID, anthropicID := ids["app.py"], ids["support/escalate.py"]
	if openaiID == "" || anthropicID == "" {
		t.Fatalf("contract sites: %+v", c.CallSites)
	}
	// The patch put one line above the OpenAI call; the contract has the
	// post-patch line.
	if openaiID != coverage.CallsiteID("app.py", 10) || anthropicID != coverage.CallsiteID(filepath.Join("support", "escalate.py"), 7) {
		t.Errorf("ids %v", ids)
	}

	t.Chdir(app)
	type covDoc struct {
		Coverage struct {
			CoveredIDs   []string `json:"covered_ids"`
			UncoveredIDs []string `json:"uncovered_ids"`
			ExtraIDs     []string `json:"extra_ids"`
			CoveragePct  float64  `json:"coverage_pct"`
			CoveredCount int      `json:"covered_count"`
			TotalCount   int      `json:"total_count"`
		} `json:"coverage"`
	}
	runAndVerify := func(name string) (int, covDoc) {
		pack := filepath.Join(out, name)
		code, o, e := ckRun(t, "run", "-o", pack, "--", "python3", "app.py")
		if code != 0 {
			t.Fatalf("assay run %s: exit %d\n%s%s", name, code, o, e)
		}
		code, o, e = ckRun(t, "verify-pack", pack, "--coverage-contract", contract, "--min-coverage", "1", "--json")
		var d covDoc
		if err := json.Unmarshal([]byte(o), &d); err != nil {
			t.Fatalf("verify-pack --json: %v\n%s%s", err, o, e)
		}
		return code, d
	}

	code, d := runAndVerify("full")
	want := []string{openaiID, anthropicID}
	slices.Sort(want)
	if code != 0 || !slices.Equal(d.Coverage.CoveredIDs, want) || len(d.Coverage.UncoveredIDs) != 0 || len(d.Coverage.ExtraIDs) != 0 || d.Coverage.CoveragePct != 1 {
		t.Fatalf("full coverage: exit %d, %+v", code, d.Coverage)
	}

	// Remove the instrumentation of the Anthropic call only.
	t.Setenv("ASSAY_CAPTURE_SKIP", "anthropic")
	code, d = runAndVerify("partial")
	if code != 1 {
		t.Errorf("below --min-coverage: exit %d, want 1", code)
	}
	if !slices.Equal(d.Coverage.CoveredIDs, []string{openaiID}) || !slices.Equal(d.Coverage.UncoveredIDs, []string{anthropicID}) ||
		d.Coverage.CoveredCount != 1 || d.Coverage.TotalCount != 2 || d.Coverage.CoveragePct != 0.5 {
		t.Errorf("partial coverage: %+v", d.Coverage)
	}

	// A contract edited after the scan is refused as tampered (exit 2).
	raw, _ := os.ReadFile(contract)
	os.WriteFile(contract, []byte(strings.Replace(string(raw), anthropicID, "000000000000", 1)), 0o644)
	if code, _, _ := ckRun(t, "verify-pack", filepath.Join(out, "full"), "--coverage-contract", contract); code != 2 {
		t.Errorf("tampered contract: exit %d, want 2", code)
	}
}
