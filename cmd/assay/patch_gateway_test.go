package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/verify"
)

// A patched Python program run under `assay run --gateway` is recorded once
// per call: the shim marks its requests X-Assay-Captured, so the gateway
// forwards them without a second receipt. (Before, every call had two
// receipts: the shim's and the gateway's.)
func TestPatchedPythonUnderGatewayRecordsOnce(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	for _, tc := range []struct {
		project string
		calls   int
	}{{"plain", 1}, {"streams", 2}, {"asyncerr", 2}} {
		t.Run(tc.project, func(t *testing.T) {
			ckProcessEnv(t)
			rtMock(t)
			ckSetenv(t, "PYTHONPATH", filepath.Join(patchData, "sdk"))
			ckSetenv(t, "PYTHONDONTWRITEBYTECODE", "1")
			dir := copyTree(t, filepath.Join(patchData, "projects", tc.project))
			if code, _, errs := ckRun(t, "patch", dir, "--yes"); code != 0 {
				t.Fatalf("patch: %s", errs)
			}
			out := filepath.Join(t.TempDir(), "pack")
			t.Chdir(dir)
			code, stdout, stderr := ckRun(t, "run", "--gateway", "--json", "-o", out, "--", "python3", "app.py")
			if code != 0 {
				t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
			}
			var sum runSummary
			ckJSON(t, stdout, &sum)
			if sum.NReceipts != tc.calls {
				t.Fatalf("%d receipts for %d calls (want one each: the shim's)", sum.NReceipts, tc.calls)
			}
			body, _ := os.ReadFile(filepath.Join(out, "receipt_pack.jsonl"))
			if n := strings.Count(string(body), `"integration_source":"assay.shim.python"`); n != tc.calls {
				t.Errorf("%d shim receipts, want %d:\n%s", n, tc.calls, body)
			}
			if res, err := verify.Verify(out, verify.Options{}); err != nil || res.ExitCode != 0 {
				t.Fatalf("verify: %v %v", res, err)
			}
		})
	}
}

// An unpatched program recorded through the gateway has receipts without a
// call site: coverage of the scan's contract reads 0%, and both the signed
// coverage claim and verify-pack's coverage gate say why and what to do.
func TestGatewayCoverageExplainsMissingCallsites(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	ckProcessEnv(t) // the run's child starts in the directory the test moves to
	rtMock(t)
	ckSetenv(t, "PYTHONPATH", filepath.Join(patchData, "sdk"))
	ckSetenv(t, "PYTHONDONTWRITEBYTECODE", "1")
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	if code, _, errs := ckRun(t, "scan", dir, "--emit-contract", filepath.Join(dir, "assay.coverage.json")); code != 0 {
		t.Fatalf("scan: %s", errs)
	}
	out := filepath.Join(t.TempDir(), "pack")
	t.Chdir(dir)
	code, stdout, stderr := ckRun(t, "run", "--gateway", "-c", "coverage_contract", "--json", "-o", out, "--", "python3", "app.py")
	var sum runSummary
	ckJSON(t, stdout, &sum)
	if code != sum.RunExitCode || sum.Verdict != "HONEST_FAIL" {
		t.Fatalf("run: exit %d, verdict %s, want HONEST_FAIL (the coverage claim fails)\n%s\n%s", code, sum.Verdict, stdout, stderr)
	}
	const why = "1 model call receipt(s) came through the gateway without a call site; send the X-Assay-Callsite header or run 'assay patch' for per-site coverage"
	vr, _ := os.ReadFile(filepath.Join(out, "verify_report.json"))
	if !strings.Contains(string(vr), `"actual": "0% (0/1); `+why+`"`) && !strings.Contains(string(vr), `"actual":"0% (0/1); `+why+`"`) {
		t.Errorf("the coverage claim does not explain itself:\n%s", vr)
	}
	code, stdout, _ = ckRun(t, "verify-pack", out, "--coverage-contract", "assay.coverage.json", "--json")
	var res struct {
		Coverage struct {
			CoveragePct  float64 `json:"coverage_pct"`
			Note         string  `json:"note"`
			Unattributed struct {
				ModelCalls int `json:"model_calls"`
				Gateway    int `json:"from_gateway"`
			} `json:"unattributed"`
		} `json:"coverage"`
	}
	ckJSON(t, stdout, &res)
	if code != 1 || res.Coverage.CoveragePct != 0 || res.Coverage.Unattributed.ModelCalls != 1 || res.Coverage.Unattributed.Gateway != 1 || !strings.Contains(res.Coverage.Note, "X-Assay-Callsite") {
		t.Errorf("verify-pack: exit %d, coverage %+v", code, res.Coverage)
	}
	_, text, _ := ckRun(t, "verify-pack", out, "--coverage-contract", "assay.coverage.json")
	if !strings.Contains(text, "1 model call receipt(s) came through the gateway without a call site") {
		t.Errorf("verify-pack text does not explain the 0%% coverage:\n%s", text)
	}
}
