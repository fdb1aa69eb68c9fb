package diff

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// diff refuses either pack when it holds a file linking out of it (exit
// 3), before reading anything: the outside content is nowhere in the error.
func TestCompareRefusesLinksOutOfThePack(t *testing.T) {
	t.Parallel()
	fx := t.TempDir()
	base := packstest.DiffFixture(t, fx, "base")
	for _, c := range packstest.LinkCases() {
		t.Run(c.Name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "pack")
			packstest.Copy(t, base, dir)
			c.Make(t, dir, filepath.Join(tmp, "outside"))
			for _, ab := range [][2]string{{base, dir}, {dir, base}} {
				for _, noVerify := range []bool{false, true} {
					r, err := Compare(ab[0], ab[1], Options{NoVerify: noVerify})
					if exit.Code(err) != exit.BadInput || r != nil || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), packstest.Marker) {
						t.Fatalf("Compare(noVerify=%v): %v (exit %d)", noVerify, err, exit.Code(err))
					}
				}
			}
		})
	}
}
