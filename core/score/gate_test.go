package score

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

func TestGate(t *testing.T) {
	t.Parallel()
	d := newRepo(t)
	d.file("app.py", pyPatched).lock().workflow() // 69.9, D (capped)
	res, err := Compute(d.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	higher := &Baseline{ScoreVersion: Version, Score: 80, Grade: "B", Components: map[string]float64{Coverage: 39, Receipts: 22}}
	lower := &Baseline{ScoreVersion: Version, Score: 50, Grade: "F"}
	cases := []struct {
		name     string
		o        GateOptions
		code     int
		failures int
		regress  bool
		note     string
	}{
		{"at the minimum passes", GateOptions{MinScore: 69.9}, 0, 0, false, ""},
		{"below the minimum fails", GateOptions{MinScore: 70}, 1, 1, false, ""},
		{"regression fails when asked", GateOptions{FailOnRegression: true, Baseline: higher}, 1, 1, true, ""},
		{"regression is reported, not failed, by default", GateOptions{Baseline: higher}, 0, 0, true, ""},
		{"improvement passes", GateOptions{FailOnRegression: true, Baseline: lower}, 0, 0, false, ""},
		{"both failures are listed", GateOptions{MinScore: 90, FailOnRegression: true, Baseline: higher}, 1, 2, true, ""},
		{"no baseline is a note", GateOptions{FailOnRegression: true, BaselinePath: "x.json"}, 0, 0, false, "no score baseline at x.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, err := Gate(res, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if g.ExitCode != tc.code || len(g.Failures) != tc.failures || g.Regression != tc.regress || g.Passed != (tc.code == 0) {
				t.Errorf("%+v", g)
			}
			if tc.note != "" && (len(g.Notes) == 0 || !strings.Contains(g.Notes[0], tc.note)) {
				t.Errorf("notes %q, want %q", g.Notes, tc.note)
			}
			if tc.o.Baseline == higher {
				var cov *Delta
				for i := range g.Deltas {
					if g.Deltas[i].Component == Coverage {
						cov = &g.Deltas[i]
					}
				}
				if cov == nil || cov.Change != 0 || len(g.Deltas) != 2 {
					t.Errorf("deltas %+v", g.Deltas)
				}
			}
		})
	}
	for _, bad := range []float64{-1, 100.1} {
		if _, err := Gate(res, GateOptions{MinScore: bad}); exit.Code(err) != exit.BadInput {
			t.Errorf("min score %v: %v, want bad input", bad, err)
		}
	}
}

// save-baseline writes .assay/score-baseline.json under the repository,
// refuses to replace it without force, and the gate reads it back.
func TestSaveAndLoadBaseline(t *testing.T) {
	t.Parallel()
	d := newRepo(t)
	res, err := Compute(d.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	b := BaselineOf(res, at)
	path, err := SaveBaseline(d.dir, "", b, false)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(d.dir, ".assay", "score-baseline.json") {
		t.Errorf("written to %s", path)
	}
	before, _ := os.ReadFile(path)
	b2 := *b
	b2.Score = 1
	if _, err := SaveBaseline(d.dir, "", &b2, false); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite without force: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("the refused save changed the file")
	}
	if _, err := SaveBaseline(d.dir, "", &b2, true); err != nil {
		t.Fatal(err)
	}
	got, _, err := LoadBaseline(d.dir, "")
	if err != nil || got == nil || got.Score != 1 || got.SavedAt != "2026-12-07T00:00:00Z" || got.Components[Coverage] != 19.5 {
		t.Errorf("loaded %+v, %v", got, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(d.dir, ".assay", "*tmp*")); len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}

	// Missing: nil, no error. Invalid: bad input.
	empty := newRepo(t)
	if got, _, err := LoadBaseline(empty.dir, ""); got != nil || err != nil {
		t.Errorf("missing baseline: %+v %v", got, err)
	}
	for name, doc := range map[string]string{
		"not json":      "{",
		"unknown field": `{"score":1,"extra":2}`,
		"out of range":  `{"score":101}`,
		"two documents": `{"score":1}{"score":2}`,
	} {
		r := newRepo(t).file(BaselineFile, doc)
		if _, _, err := LoadBaseline(r.dir, ""); exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v, want bad input", name, err)
		}
	}
}

// A .assay directory that links out of the repository does not redirect
// the write.
func TestSaveBaselineConfined(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	d := newRepo(t)
	if err := os.Symlink(outside, filepath.Join(d.dir, ".assay")); err != nil {
		t.Fatal(err)
	}
	res, _ := Compute(d.dir, Options{})
	if _, err := SaveBaseline(d.dir, "", BaselineOf(res, time.Now()), false); err == nil {
		t.Error("the write followed a link out of the repository")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written outside: %v", entries)
	}
}
