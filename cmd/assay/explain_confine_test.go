package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/assay-dev/assay/core/packs/packstest"
)

// `assay explain` (and diff, packs show) never read a pack file through a
// link that leaves the pack: each link case is refused with exit 3 and one
// line naming the entry, and the outside file's content is printed
// nowhere, in any format.
func TestExplainCLIRefusesLinksOutOfThePack(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	base := packstest.DiffFixture(t, t.TempDir(), "base")
	for _, c := range packstest.LinkCases() {
		t.Run(c.Name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "proof_pack_linked")
			packstest.Copy(t, base, dir)
			c.Make(t, dir, filepath.Join(tmp, "outside"))
			for _, args := range [][]string{
				{"explain", dir},
				{"explain", dir, "--json"},
				{"explain", dir, "--format", "md"},
				{"diff", base, dir},
				{"packs", "show", dir},
			} {
				code, out, errOut := ckRun(t, args...)
				if code != 3 || !strings.Contains(errOut, "refused") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
					t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
				}
				if strings.Contains(out+errOut, packstest.Marker) {
					t.Errorf("%v: the outside file's content was printed", args)
				}
			}
		})
	}
}

// explain given a FIFO (for a pack or a bundle) refuses it with exit 3 and
// returns: it never opens it for a blocking read (the test would hang).
func TestExplainCLIRefusesAFIFO(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	fifo := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := ckRun(t, "explain", fifo); code != 3 || !strings.Contains(errOut, "not a pack directory or audit bundle") {
		t.Fatalf("exit %d, %s", code, errOut)
	}
}
