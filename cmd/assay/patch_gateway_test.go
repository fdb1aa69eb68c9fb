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
