package score

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

// A repository is built from real parts: scanned Python sources, a lock
// written by core/lock, a workflow rendered by core/ciinit, a pack built
// by the demo builder.

const (
	pyPlain = "import openai\nclient = openai.OpenAI()\nclient.chat.completions.create(model='gpt-4', messages=[])\n"
	// The reference's integration import marks a file instrumented.
	pyPatched = "from assay.integrations.openai import patch\npatch()\nimport openai\nclient = openai.OpenAI()\nclient.chat.completions.create(model='gpt-4', messages=[])\n"
)

type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo { return &repo{t: t, dir: t.TempDir()} }

func (r *repo) file(rel, data string) *repo {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return r
}

func (r *repo) lock() *repo {
	r.t.Helper()
	l, err := lock.New([]string{"receipt_completeness"}, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := l.Write(filepath.Join(r.dir, lock.DefaultPath)); err != nil {
		r.t.Fatal(err)
	}
	return r
}

// staleLock is a lock whose card hash drifted (lock check reports it).
func (r *repo) staleLock() *repo {
	r.lock()
	p := filepath.Join(r.dir, lock.DefaultPath)
	b, _ := os.ReadFile(p)
	l, _ := lock.Parse(b)
	l.RunCards[0].ClaimSetHash = strings.Repeat("0", 64)
	out, _ := l.Marshal()
	if err := os.WriteFile(p, out, 0o644); err != nil {
		r.t.Fatal(err)
	}
	return r
}

func (r *repo) workflow() *repo {
	r.t.Helper()
	w, err := ciinit.RenderWorkflow(ciinit.WorkflowOptions{RunCommand: "python3 app.py"})
	if err != nil {
		r.t.Fatal(err)
	}
	return r.file(ciinit.DefaultWorkflowPath, string(w.YAML))
}

// pack builds a real signed pack at rel (found by its manifest).
func (r *repo) pack(rel string) *repo {
	r.t.Helper()
	tmp := filepath.Join(r.t.TempDir(), "c")
	c, err := demo.BuildChallenge(tmp)
	if err != nil {
		r.t.Fatal(err)
	}
	dst := filepath.Join(r.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(c.Dir, "good"))); err != nil {
		r.t.Fatal(err)
	}
	return r
}

func TestComputeComponents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		build func(*repo)
		// points per component, score, grade, raw score, whether capped
		points map[string]float64
		score  float64
		grade  string
		raw    float64
		capped bool
	}{
		{"empty repository", func(r *repo) {},
			map[string]float64{Coverage: 19.5, Lockfile: 0, CIGate: 0, Receipts: 0}, 19.5, "F", 19.5, true},
		{"uninstrumented call site", func(r *repo) { r.file("app.py", pyPlain) },
			map[string]float64{Coverage: 0}, 0, "F", 0, true},
		{"half instrumented", func(r *repo) { r.file("a.py", pyPlain).file("b.py", pyPatched) },
			map[string]float64{Coverage: 19.5}, 19.5, "F", 19.5, true},
		{"stale lock gets 45%", func(r *repo) { r.file("app.py", pyPatched).staleLock() },
			map[string]float64{Coverage: 39, Lockfile: 7.7}, 46.7, "F", 46.7, true},
		{"everything but receipts is capped at D", func(r *repo) { r.file("app.py", pyPatched).lock().workflow() },
			map[string]float64{Coverage: 39, Lockfile: 17, CIGate: 22, Receipts: 0}, 69.9, "D", 78, true},
		{"full marks", func(r *repo) { r.file("app.py", pyPatched).lock().workflow().pack("proof_pack_ci") },
			map[string]float64{Coverage: 39, Lockfile: 17, CIGate: 22, Receipts: 22}, 100, "A", 100, false},
		{"pack found by manifest under any name", func(r *repo) { r.lock().pack("evidence/run1") },
			map[string]float64{Coverage: 19.5, Lockfile: 17, Receipts: 22}, 58.5, "F", 58.5, false},
		{"reference pattern without manifest", func(r *repo) { r.file("proof_pack_x/receipt_pack.jsonl", "") },
			map[string]float64{Receipts: 22}, 41.5, "F", 41.5, false},
		{"MCP session file counts as receipts", func(r *repo) { r.file(".assay/mcp/receipts/session_20260101T000000Z.jsonl", "{}\n") },
			map[string]float64{Receipts: 22}, 41.5, "F", 41.5, false},
		{"run and verify without lock: 70%", func(r *repo) {
			r.file(".github/workflows/a.yml", "jobs:\n  x:\n    steps:\n      - run: assay run -- python3 app.py\n      - run: assay verify-pack proof_pack_ci\n")
		}, map[string]float64{CIGate: 15.4}, 34.9, "F", 34.9, true},
		{"verify action and a mention: 50%", func(r *repo) {
			r.file(".github/workflows/a.yaml", "steps:\n  - uses: Haserjian/assay-verify-action@v1\n")
		}, map[string]float64{CIGate: 11}, 30.5, "F", 30.5, true},
		{"a mention only: 25%", func(r *repo) { r.file(".github/workflows/a.yml", "steps:\n  - run: pip install assay-ai\n") },
			map[string]float64{CIGate: 5.5}, 25, "F", 25, true},
		{"workflow without assay", func(r *repo) { r.file(".github/workflows/a.yml", "steps:\n  - run: make test\n") },
			map[string]float64{CIGate: 0}, 19.5, "F", 19.5, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRepo(t)
			tc.build(r)
			res, err := Compute(r.dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.points {
				c, ok := res.Component(name)
				if !ok || c.Points != want {
					t.Errorf("%s: %+v, want %v points", name, c, want)
				}
			}
			if res.Score != tc.score || res.Grade != tc.grade || res.RawScore != tc.raw {
				t.Errorf("score %v grade %s raw %v, want %v %s %v", res.Score, res.Grade, res.RawScore, tc.score, tc.grade, tc.raw)
			}
			if capped := len(res.Caps) > 0 && res.Caps[0].ID == CapNoReceipts; capped != tc.capped {
				t.Errorf("caps %+v, want capped=%v", res.Caps, tc.capped)
			}
			var sum float64
			for _, c := range res.Breakdown {
				sum += c.Weight
			}
			if sum != 100 {
				t.Errorf("weights add to %v", sum)
			}
		})
	}
}

func TestGrades(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s float64
		g string
	}{{100, "A"}, {90, "A"}, {89.9, "B"}, {80, "B"}, {79.9, "C"}, {70, "C"}, {69.9, "D"}, {60, "D"}, {59.9, "F"}, {0, "F"}} {
		if got := GradeOf(tc.s); got != tc.g {
			t.Errorf("GradeOf(%v) = %s, want %s", tc.s, got, tc.g)
		}
	}
}

// The fastest path to the next grade is the fewest actions, and counts the
// no-receipts cap: from D (capped) only recording receipts lifts the grade.
func TestFastestPath(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.file("app.py", pyPatched).lock().workflow()
	res, err := Compute(r.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := res.FastestPath
	if !p.Reachable || p.To != "C" || len(p.Actions) != 1 || p.Actions[0].Component != Receipts || p.Score != 100 {
		t.Fatalf("fastest path %+v", p)
	}
	if len(res.NextActions) != 1 || !strings.Contains(res.NextActions[0], "assay run") || !strings.Contains(res.NextActions[0], "+22.0 pts est.") {
		t.Errorf("next actions %q", res.NextActions)
	}

	// An uninstrumented repo scores 0: F -> D needs 60 points, and no
	// single action gives them; patching (39) plus one 22-point action
	// (CI or receipts) gives 61: two actions.
	r2 := newRepo(t)
	r2.file("app.py", pyPlain)
	res2, _ := Compute(r2.dir, Options{})
	p2 := res2.FastestPath
	if !p2.Reachable || p2.To != "D" || len(p2.Actions) != 2 {
		t.Fatalf("fastest path %+v", p2)
	}
	got := map[string]bool{}
	for _, a := range p2.Actions {
		got[a.Component] = true
	}
	if !got[Coverage] || p2.Score != 61 {
		t.Errorf("fastest path %+v, want coverage and a 22-point action", p2)
	}
	if res3 := FromFacts("x", Facts{SitesTotal: 1, Instrumented: 1, LockValid: true, LockPresent: true, CIRun: true, CIVerify: true, CILock: true, Packs: []string{"p"}}); res3.FastestPath.To != "" || res3.FastestPath.Reachable {
		t.Errorf("grade A has a fastest path: %+v", res3.FastestPath)
	}
}

// key_setup is reported from the home given, never weighted.
func TestKeySetupReportedOnly(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	ks := keys.Open(home)
	if _, err := ks.Generate("team"); err != nil {
		t.Fatal(err)
	}
	if err := ks.SetActive("team"); err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	with, _ := Compute(r.dir, Options{Home: home})
	without, _ := Compute(r.dir, Options{Home: t.TempDir()})
	c1, _ := with.Component(KeySetup)
	c2, _ := without.Component(KeySetup)
	if c1.Status != "full" || c2.Status != "none" || c1.Points != 0 || with.Score != without.Score || with.Facts.ActiveSigner != "team" {
		t.Errorf("with key %+v, without %+v", c1, c2)
	}
}

func TestComputeBadInput(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	for _, p := range []string{filepath.Join(t.TempDir(), "missing"), f} {
		if _, err := Compute(p, Options{}); exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v, want bad input", p, err)
		}
	}
}

// Links out of the repository are not followed: a workflow directory and a
// lock that point elsewhere earn nothing.
func TestComputeDoesNotFollowLinksOut(t *testing.T) {
	t.Parallel()
	outside := newRepo(t).lock().workflow()
	r := newRepo(t)
	os.MkdirAll(filepath.Join(r.dir, ".github"), 0o755)
	if err := os.Symlink(filepath.Join(outside.dir, ".github", "workflows"), filepath.Join(r.dir, ".github", "workflows")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside.dir, lock.DefaultPath), filepath.Join(r.dir, lock.DefaultPath)); err != nil {
		t.Fatal(err)
	}
	res, err := Compute(r.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := res.Component(CIGate)
	lk, _ := res.Component(Lockfile)
	if ci.Points != 0 || lk.Points == 17 {
		t.Errorf("links out were followed: ci %+v lock %+v", ci, lk)
	}
}
