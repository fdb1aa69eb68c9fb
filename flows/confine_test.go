package flows

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// PlanWith hands every path param, defaults and derived values included,
// to ConfinePath before any step is built, and the steps use what it
// returns; a refusal stops the plan.
func TestPlanWithConfinesEveryPathParam(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proof_pack_x"), 0o755)
	os.WriteFile(filepath.Join(dir, "proof_pack_x", "pack_manifest.json"), []byte("{}"), 0o644)
	for _, name := range Names() {
		f, _ := Get(name)
		var want, seen []string
		for _, p := range f.Params {
			if p.Path {
				want = append(want, p.Name)
			}
		}
		plan, err := f.PlanWith(dir, nil, PlanOptions{ConfinePath: func(n, v string) (string, error) {
			if v == "" {
				t.Fatalf("%s: empty %s confined", name, n)
			}
			seen = append(seen, n)
			return "/confined/" + n, nil
		}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("%s: confined %v, want %v", name, seen, want)
		}
		all := ""
		for _, s := range plan.Steps {
			all += s.Command + "\n"
		}
		for _, n := range want {
			if !strings.Contains(all, "/confined/"+n) {
				t.Fatalf("%s: steps do not use the confined %s:\n%s", name, n, all)
			}
		}
		refused := errors.New("refused")
		if _, err := f.PlanWith(dir, nil, PlanOptions{ConfinePath: func(string, string) (string, error) { return "", refused }}); !errors.Is(err, refused) {
			t.Fatalf("%s: a refused path gave %v", name, err)
		}
	}
}
