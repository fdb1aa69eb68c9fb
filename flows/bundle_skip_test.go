package flows_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/flows"
	"github.com/assay-dev/assay/internal/childtest"
)

// planChildEnv makes the test binary a child that plans the audit flow
// in its working directory for the bundle it names and prints the bundle step's status (see TestMain).
const planChildEnv = "ASSAY_FLOWS_PLAN_CHILD"

// planChild is the child's whole run; it returns the exit code.
func planChild(bundle string) int {
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := flows.Get("audit")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p, err := f.Plan(dir, map[string]string{"pack": "p", "bundle": bundle})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, s := range p.Steps {
		if s.ID == "bundle" {
			fmt.Print(s.Status)
			return 0
		}
	}
	return 1
}

// Planning the audit flow (what the read-only MCP run-flow call does)
// reads only the manifest member of a bundle already there: it writes
// nothing (the child's temp dir is a file; extracting the bundle would
// fail there), a bomb behind the manifest is never inflated, one ahead of
// it is given up on within the pack's own size (and the bundle is
// rebuilt), an honest bundle with a large unsigned file first is skipped,
// and the planning process's peak memory stays small.
func TestAuditPlanReadsOnlyTheBundleManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	packstest.Build(t, filepath.Join(dir, "p"), packstest.Generic(3), nil)
	var files []packstest.TarFile // as the bundle writer orders them
	// A large unsigned file, as a recorder's pack carries its seal log:
	// bundled ahead of the manifest, and still within the budget.
	if err := os.MkdirAll(filepath.Join(dir, "p", "_unsigned", "seal"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p", "_unsigned", "seal", "log"), make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "p")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files = append(files, packstest.TarFile{Name: filepath.ToSlash(rel), Data: b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	m := sort.Search(len(files), func(i int) bool { return files[i].Name >= pack.FileManifest })
	other := append([]packstest.TarFile(nil), files...)
	other[m] = packstest.TarFile{Name: pack.FileManifest, Data: []byte(`{"pack_id":"another"}`)}
	for _, c := range []struct {
		name          string
		before, after []packstest.TarFile
		bomb          int64
		want          string
	}{
		{"honest", files, nil, 0, flows.StatusSkipped},
		{"bomb after the manifest", files[:m+1], files[m+1:], 4 << 30, flows.StatusSkipped},
		{"bomb before the manifest", nil, files, 256 << 20, flows.StatusPlanned},
		{"another pack", other, nil, 0, flows.StatusPlanned},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bundle := strings.ReplaceAll(c.name, " ", "_") + ".tar.gz"
			packstest.GzipBombAmong(t, filepath.Join(dir, bundle), c.before, "_unsigned/bomb", c.bomb, c.after)
			// The child's temp "dir" is a file: nothing can be made in it,
			// whoever runs the test.
			tmp := filepath.Join(t.TempDir(), "not-a-dir")
			if err := os.WriteFile(tmp, nil, 0o400); err != nil {
				t.Fatal(err)
			}
			out, peakMB := childtest.Run(t, planChildEnv, bundle, dir, "TMPDIR="+tmp, "HOME="+tmp)
			if got := string(out); got != c.want {
				t.Fatalf("bundle step %q, want %q", got, c.want)
			}
			t.Logf("peak RSS planning: %.1f MB", peakMB)
			if peakMB > 64 {
				t.Fatalf("peak RSS %.1f MB planning against a %d-byte bomb", peakMB, c.bomb)
			}
		})
	}
}
