package score

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// BaselineFile is where `gate save-baseline` records the score, relative
// to the repository (runtime.md §8: .assay/score-baseline.json).
const BaselineFile = ".assay/score-baseline.json"

// maxBaseline bounds a baseline file read.
const maxBaseline = 1 << 20

// Baseline is a saved score the gate compares against.
type Baseline struct {
	ScoreVersion string             `json:"score_version"`
	Score        float64            `json:"score"`
	Grade        string             `json:"grade"`
	Components   map[string]float64 `json:"components"`
	SavedAt      string             `json:"saved_at"`
}

// BaselineOf is the baseline a result would save.
func BaselineOf(r *Result, at time.Time) *Baseline {
	b := &Baseline{ScoreVersion: r.ScoreVersion, Score: r.Score, Grade: r.Grade, Components: map[string]float64{}, SavedAt: at.UTC().Format(time.RFC3339)}
	for _, c := range r.Breakdown {
		b.Components[c.Name] = c.Points
	}
	return b
}

// SaveResult is what `gate save-baseline` reports.
type SaveResult struct {
	Command  string   `json:"command"`
	Status   string   `json:"status"`
	Path     string   `json:"path"`
	Baseline Baseline `json:"baseline"`
}

// SaveBaseline writes b to path (relative paths resolve inside repo, through
// an os.Root, so a link in the repository cannot redirect the write). An
// existing file is refused (exit 3, nothing changed) unless force is set.
// The file is written to a temp name and renamed into place.
func SaveBaseline(repo, path string, b *Baseline, force bool) (string, error) {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode baseline: %w", err)
	}
	data = append(data, '\n')
	if path == "" {
		path = BaselineFile
	}
	if filepath.IsAbs(path) {
		if err := fsutil.WriteNew(path, data, force); err != nil {
			return "", err
		}
		return path, nil
	}
	abs, err := checkDir(repo)
	if err != nil {
		return "", err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return "", exit.Bad("give a writable directory", "cannot open %s: %v", repo, fsutil.Reason(err))
	}
	defer root.Close()
	name := filepath.Clean(filepath.FromSlash(path))
	full := filepath.Join(abs, name)
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return "", exit.Bad("check the repository's permissions, or give -o", "cannot create %s: %v", filepath.Join(abs, dir), fsutil.Reason(err))
		}
	}
	if st, err := root.Lstat(name); err == nil {
		if st.IsDir() {
			return "", exit.Bad("name a file", "%s is a directory", full)
		}
		if !force {
			return "", exit.Bad("pass --force to replace it", "%s already exists; nothing was changed", full)
		}
	}
	if force {
		err = fsutil.WriteFileAtomicIn(root, name, data, 0o644)
	} else {
		err = fsutil.WriteNewIn(root, name, data, 0o644)
	}
	if errors.Is(err, fs.ErrExist) {
		return "", exit.Bad("pass --force to replace it", "%s already exists; nothing was changed", full)
	}
	if err != nil {
		return "", exit.Bad("check the path and its permissions", "cannot write %s: %v", full, fsutil.Reason(err))
	}
	return full, nil
}

// LoadBaseline reads a baseline (relative paths inside repo, confined). A
// missing file is (nil, nil); an unreadable or invalid one is bad input.
func LoadBaseline(repo, path string) (*Baseline, string, error) {
	if path == "" {
		path = BaselineFile
	}
	var (
		data []byte
		err  error
		full = path
	)
	if filepath.IsAbs(path) {
		data, err = fsutil.ReadFileConfined(filepath.Dir(path), filepath.Base(path), maxBaseline)
	} else {
		abs, cerr := checkDir(repo)
		if cerr != nil {
			return nil, "", cerr
		}
		full = filepath.Join(abs, filepath.FromSlash(path))
		data, err = fsutil.ReadFileConfined(abs, filepath.Clean(filepath.FromSlash(path)), maxBaseline)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, full, nil
	}
	if err != nil {
		return nil, full, exit.Bad("check the path, or save one with 'assay gate save-baseline --force'", "cannot read the score baseline %s: %v", full, fsutil.Reason(err))
	}
	var b Baseline
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || dec.More() {
		return nil, full, exit.Bad("save it again with 'assay gate save-baseline --force'", "the score baseline %s is not a baseline document", full)
	}
	if math.IsNaN(b.Score) || b.Score < 0 || b.Score > 100 {
		return nil, full, exit.Bad("save it again with 'assay gate save-baseline --force'", "the score baseline %s has score %v, outside 0..100", full, b.Score)
	}
	return &b, full, nil
}

// GateOptions are the gate's thresholds.
type GateOptions struct {
	// MinScore fails the gate below it (0..100).
	MinScore float64
	// FailOnRegression fails the gate when the score is below the
	// baseline's.
	FailOnRegression bool
	// Baseline is the saved score (nil: none saved); BaselinePath names it.
	Baseline     *Baseline
	BaselinePath string
}

// Delta is one component's change against the baseline.
type Delta struct {
	Component string  `json:"component"`
	Baseline  float64 `json:"baseline_points"`
	Current   float64 `json:"current_points"`
	Change    float64 `json:"change"`
}

// GateResult is what `gate check` reports (and --save-report writes).
type GateResult struct {
	Command string `json:"command"`
	// Status is pass or fail.
	Status   string  `json:"status" jsonschema:"enum=pass,enum=fail"`
	Passed   bool    `json:"passed"`
	ExitCode int     `json:"exit_code"`
	Score    float64 `json:"score"`
	Grade    string  `json:"grade"`
	MinScore float64 `json:"min_score"`
	// Failures names each failed check, in words.
	Failures         []string `json:"failures"`
	FailOnRegression bool     `json:"fail_on_regression"`
	// BaselinePath is where the baseline was looked for; BaselineScore is
	// nil when none was saved.
	BaselinePath  string   `json:"baseline_path"`
	BaselineScore *float64 `json:"baseline_score" jsonschema:"oneof_type=number;null"`
	BaselineGrade string   `json:"baseline_grade,omitempty"`
	Regression    bool     `json:"regression"`
	Deltas        []Delta  `json:"deltas"`
	Notes         []string `json:"notes"`
	Result        *Result  `json:"result"`
}

// ValidMinScore checks a --min-score value.
func ValidMinScore(v float64) error {
	if math.IsNaN(v) || v < 0 || v > 100 {
		return exit.Bad("give a score between 0 and 100, e.g. --min-score 70", "--min-score must be within 0..100, got %v", v)
	}
	return nil
}

// Gate applies the gate to a score: below MinScore fails, and so does a
// score below the baseline's when FailOnRegression is set. A missing
// baseline is noted, not failed: the first CI run has none.
func Gate(r *Result, o GateOptions) (*GateResult, error) {
	if err := ValidMinScore(o.MinScore); err != nil {
		return nil, err
	}
	g := &GateResult{Command: "gate check", Score: r.Score, Grade: r.Grade, MinScore: o.MinScore, FailOnRegression: o.FailOnRegression,
		BaselinePath: o.BaselinePath, Failures: []string{}, Deltas: []Delta{}, Notes: []string{}, Result: r}
	if r.Score < o.MinScore {
		g.Failures = append(g.Failures, fmt.Sprintf("score %.1f is below the minimum %.1f", r.Score, o.MinScore))
	}
	if b := o.Baseline; b != nil {
		s := b.Score
		g.BaselineScore, g.BaselineGrade = &s, b.Grade
		for _, c := range r.Breakdown {
			if old, ok := b.Components[c.Name]; ok {
				g.Deltas = append(g.Deltas, Delta{Component: c.Name, Baseline: old, Current: c.Points, Change: round1(c.Points - old)})
			}
		}
		if b.ScoreVersion != "" && b.ScoreVersion != r.ScoreVersion {
			g.Notes = append(g.Notes, fmt.Sprintf("the baseline was saved with score version %s, this is %s", b.ScoreVersion, r.ScoreVersion))
		}
		g.Regression = r.Score < b.Score
		if g.Regression && o.FailOnRegression {
			g.Failures = append(g.Failures, fmt.Sprintf("score %.1f regressed from the baseline's %.1f", r.Score, b.Score))
		}
	} else if o.FailOnRegression {
		g.Notes = append(g.Notes, "no score baseline at "+o.BaselinePath+", so regression was not checked; save one with 'assay gate save-baseline'")
	}
	g.Passed = len(g.Failures) == 0
	g.Status, g.ExitCode = "pass", exit.OK
	if !g.Passed {
		g.Status, g.ExitCode = "fail", exit.HonestFail
	}
	return g, nil
}
