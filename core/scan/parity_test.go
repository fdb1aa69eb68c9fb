package scan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/pyjson"

	"github.com/assay-dev/assay/core/coverage"
)

const refDir = "../../testdata/vectors/reference-1.24/scan_sample"

// The reference's scan of its sample tree (scan.json) is reproduced byte
// for byte: call strings, tiers, frameworks, guard, per-file evidence,
// .assayignore, the skipped Python 2 file, ordering, summary, next steps.
func TestReferenceScanParity(t *testing.T) {
	t.Parallel()
	res, err := Scan(filepath.Join(refDir, "tree"), Options{NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	doc := res.Document("ok")
	// Our deliberate additions and the one changed advice, checked here and
	// then undone, so the rest is compared byte for byte.
	tests := 0
	for i, f := range doc.Findings {
		if f.InTestPath != IsTest(f.Path) {
			t.Errorf("%s: in_test_path = %v", f.Path, f.InTestPath)
		}
		if f.InTestPath {
			tests++
		}
		doc.Findings[i].InTestPath = false
	}
	if tests != 1 || doc.TestCode == nil || doc.TestCode.SitesTotal != 1 || doc.TestCode.Uninstrumented != 1 {
		t.Errorf("test code: %d marked, summary %+v; want tests/test_main.py alone", tests, doc.TestCode)
	}
	doc.TestCode = nil
	if !res.UsesReferencePackage {
		t.Error("the sample tree imports assay.integrations, so the reference's fix texts apply")
	}
	got, err := pyjson.Indent(doc)
	if err != nil {
		t.Fatal(err)
	}
	// We advise verify-pack --latest where the reference globs
	// ./proof_pack_*/ (which matches every pack from the second run on).
	if !bytes.Contains(got, []byte(VerifyLatest)) {
		t.Errorf("next steps do not name %q:\n%s", VerifyLatest, got)
	}
	got = bytes.ReplaceAll(got, []byte(VerifyLatest), []byte("assay verify-pack ./proof_pack_*/"))
	got = append(got, '\n')
	want, err := os.ReadFile(filepath.Join(refDir, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("scan JSON differs from the reference's:\n%s", got)
	}
	// The Python 2 file is skipped (and we say why); vendor/ is ignored.
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "agents/py2.py" {
		t.Errorf("skipped = %+v", res.Skipped)
	}
}

// The contract from the same scan equals the reference's contract.json
// byte for byte once the two run-specific header fields are the same.
func TestReferenceContractParity(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join(refDir, "contract.json"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := coverage.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(filepath.Join(refDir, "tree"), Options{NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339Nano, ref.GeneratedAt)
	c, excluded := res.Contract(ContractOptions{}, at)
	if excluded != 3 {
		t.Errorf("excluded = %d, want 3 (2 langchain + 1 litellm)", excluded)
	}
	c.ProjectRoot = ref.ProjectRoot
	got, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("contract differs:\n%s", got)
	}
	if c.ContractHash != ref.ContractHash {
		t.Errorf("hash %s != %s", c.ContractHash, ref.ContractHash)
	}
}

// The report data (report.json minus meta) matches the reference's.
func TestReferenceReportDataParity(t *testing.T) {
	t.Parallel()
	res, err := Scan(filepath.Join(refDir, "tree"), Options{NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	rep := BuildReport(res, ReportMeta{})
	var want, got map[string]any
	raw, _ := os.ReadFile(filepath.Join(refDir, "report.json"))
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"findings", "summary"} {
		wb, _ := json.Marshal(want[k])
		gb, _ := json.Marshal(got[k])
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s differs:\n got %s\nwant %s", k, gb, wb)
		}
	}
}
