package verify

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

const vec = "../../testdata/vectors/"

// fixtureNow keeps the 24 h future guard and freshness stable for fixtures.
var fixtureNow = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

func TestConformanceFixtures(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(vec + "pack/conformance-fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Fixtures []struct {
			Name      string  `json:"name"`
			Passed    bool    `json:"expectPassed"`
			Code      *string `json:"expectCode"`
			FailStage *string `json:"expectFailStage"`
		} `json:"fixtures"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Fixtures) < 4 {
		t.Fatalf("only %d fixtures", len(f.Fixtures))
	}
	for _, fx := range f.Fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			r, err := Verify(vec+"pack/"+fx.Name, Options{Now: fixtureNow})
			if err != nil {
				t.Fatal(err)
			}
			if r.Passed != fx.Passed {
				t.Fatalf("passed=%v want %v; errors %+v", r.Passed, fx.Passed, r.Errors)
			}
			if fx.Passed {
				if r.ExitCode != 0 || len(r.Errors) != 0 || r.ReceiptCount != 2 || *r.HeadHash != "8070489bebfc93df39263ef96c5791a1ed5650072ce4b66ed86384ad0c5cff84" {
					t.Fatalf("golden: exit %d errors %+v count %d", r.ExitCode, r.Errors, r.ReceiptCount)
				}
				for _, s := range r.Stages {
					if s.Status != "ok" {
						t.Errorf("stage %s: %s", s.Stage, s.Status)
					}
				}
				if len(r.Stages) != 7 {
					t.Errorf("want the 7 stages, got %d", len(r.Stages))
				}
				return
			}
			if r.ExitCode != 2 || r.Verdict != VerdictTampered {
				t.Fatalf("exit %d verdict %s", r.ExitCode, r.Verdict)
			}
			found := false
			for _, e := range r.Errors {
				if e.Code == *fx.Code {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s in %+v", *fx.Code, r.Errors)
			}
			stageFailed := false
			for _, s := range r.Stages {
				if s.Stage == *fx.FailStage && s.Status == "fail" {
					stageFailed = true
				}
			}
			if !stageFailed {
				t.Fatalf("stage %s did not fail: %+v", *fx.FailStage, r.Stages)
			}
		})
	}
}

func TestReferencePacks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dir   string
		exit  int
		field string
	}{
		{"reference-1.24/challenge_good", 0, ""},
		{"reference-1.24/challenge_tampered", 2, "receipt_pack.jsonl"},
		{"reference-1.24/run_pack", 0, ""},
		{"reference-1.24/mcp_pack", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			r, err := Verify(vec+c.dir, Options{Now: fixtureNow, RequireClaimPass: c.dir == "reference-1.24/run_pack"})
			if err != nil {
				t.Fatal(err)
			}
			if r.ExitCode != c.exit {
				t.Fatalf("exit %d want %d: %+v", r.ExitCode, c.exit, r.Errors)
			}
			if c.field != "" && (len(r.Errors) == 0 || r.Errors[0].Field != c.field || r.Errors[0].Stage != StageFileHashes) {
				t.Fatalf("first error %+v", r.Errors)
			}
			if c.exit == 0 && r.Merkle != nil && r.Merkle.Recorded {
				t.Fatal("reference packs record no Merkle root")
			}
		})
	}
}
