package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/check"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// Class: confinement of reads. verify-pack's lock file and coverage
// contract are read through the allowed root they were checked against
// (the reader check.Pack is given), never by path after the check: a
// directory swapped for a link out of the root between the check and the
// read is refused and the outside file never read, and a FIFO in place of
// either file is refused instead of blocking the tool.
func TestGateFilesReadInTheRoots(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	outside := t.TempDir()
	pk := filepath.Join(e.root, "pack")
	packstest.Build(t, pk, packstest.Generic(2), nil)
	l, err := lock.New([]string{"receipt_completeness"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lockBytes, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	contract, err := coverage.New(".", nil, time.Now()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Outside, the same names hold something the gates would refuse
	// differently had they read it.
	mustWrite(t, filepath.Join(outside, "assay.lock"), []byte("outside lock"))
	mustWrite(t, filepath.Join(outside, "contract.json"), []byte("outside contract"))

	c := &Call{Server: e.srv}
	ctx := context.Background()
	for _, gate := range []struct{ name, file string }{{"lock", "assay.lock"}, {"coverage", "contract.json"}} {
		t.Run(gate.name, func(t *testing.T) {
			dir := filepath.Join(e.root, "gates_"+gate.name)
			mustWrite(t, filepath.Join(dir, "assay.lock"), lockBytes)
			mustWrite(t, filepath.Join(dir, "contract.json"), contract)
			p, err := c.Path(ctx, filepath.Join("gates_"+gate.name, gate.file))
			if err != nil {
				t.Fatal(err)
			}
			opts := func() check.Options {
				o := check.Options{ReadFile: e.srv.roots.readFile}
				if gate.name == "lock" {
					o.LockPath = p
				} else {
					o.CoverageContract, o.MinCoverage = p, 0
				}
				return o
			}
			// Read through the root: the gate runs.
			r, err := check.Pack(pk, opts())
			if err != nil {
				t.Fatalf("gate file inside the root: %v", err)
			}
			found := false
			for _, g := range r.Gates {
				found = found || g.Name == gate.name
			}
			if !found {
				t.Fatalf("the %s gate did not run: %+v", gate.name, r.Gates)
			}
			// Swapped for a link out after the check: refused, not read.
			swap(t, dir, outside)
			_, err = check.Pack(pk, opts())
			if err == nil || !strings.Contains(err.Error(), "leads out of the allowed roots") || strings.Contains(err.Error(), "outside lock") || strings.Contains(err.Error(), "outside contract") {
				t.Fatalf("gate file behind a link swapped in after the check: %v", err)
			}
		})
	}

	// A FIFO in place of the lock file or the contract is refused, never
	// opened for a blocking read (this test would hang).
	if err := syscall.Mkfifo(filepath.Join(e.root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.fails("verify-pack", map[string]any{"path": "pack", "lock": "fifo"}, "not a regular file")
	e.fails("verify-pack", map[string]any{"path": "pack", "coverage_contract": "fifo"}, "not a regular file")
	if _, err := os.Stat(filepath.Join(e.root, "fifo")); err != nil {
		t.Fatal(err)
	}
}
