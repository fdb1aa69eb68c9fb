package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The TS/JS corpus (testdata/scan/ts) has one file per positive, negative
// and instrumentation class of the TS/JS rules. expected.json, written by
// hand, lists for each file its findings as [line, call, confidence,
// framework, instrumented, in_test_path], "skip" for files that must be
// reported as not analysed, or null for files that must not be scanned.
func TestTSCorpus(t *testing.T) {
	t.Parallel()
	dir := "../../testdata/scan/ts"
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]any
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	res, err := Scan(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]any{}
	for _, f := range res.Findings {
		if f.Lang != "typescript" {
			t.Errorf("%s: lang %q", f.Path, f.Lang)
		}
		if f.Instrumented != (f.Fix == "") {
			t.Errorf("%s:%d fix %q with instrumented=%v", f.Path, f.Line, f.Fix, f.Instrumented)
		}
		p := filepath.ToSlash(f.Path)
		got[p] = append(got[p], []any{float64(f.Line), f.Call, f.Confidence, f.Framework, f.Instrumented, f.InTestPath})
	}
	skipped := map[string]bool{}
	for _, s := range res.Skipped {
		skipped[filepath.ToSlash(s.Path)] = true
	}
	if os.Getenv("TS_CORPUS_DUMP") != "" {
		b, _ := json.MarshalIndent(got, "", " ")
		t.Logf("%s\nskipped %v", b, skipped)
	}
	for path, want := range expected {
		switch w := want.(type) {
		case nil:
			if len(got[path]) > 0 || skipped[path] {
				t.Errorf("%s: must not be scanned, got %v", path, got[path])
			}
		case string:
			if !skipped[path] || len(got[path]) > 0 {
				t.Errorf("%s: want skipped, got findings %v", path, got[path])
			}
		case []any:
			if !reflect.DeepEqual(got[path], w) && !(len(w) == 0 && len(got[path]) == 0) {
				t.Errorf("%s:\n got  %v\n want %v", path, got[path], w)
			}
		}
	}
	for path := range got {
		if _, ok := expected[path]; !ok {
			t.Errorf("%s: findings %v not in expected.json", path, got[path])
		}
	}
}
