package packs

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// packs list and show never read through a link out of a pack: show
// refuses it (exit 3), list keeps the row with the refusal as its error
// (a pack whose manifest is a link is not taken for a pack at all);
// the outside content is nowhere.
func TestListAndShowRefuseLinksOutOfThePack(t *testing.T) {
	t.Parallel()
	src := packstest.DiffFixture(t, t.TempDir(), "base")
	for _, c := range packstest.LinkCases() {
		t.Run(c.Name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "packs", "proof_pack_x")
			packstest.Copy(t, src, dir)
			c.Make(t, dir, filepath.Join(tmp, "outside"))
			d, err := Show(dir, "")
			if exit.Code(err) != exit.BadInput || d != nil || strings.Contains(err.Error(), packstest.Marker) {
				t.Fatalf("Show: %+v, %v", d, err)
			}
			rows, err := List(filepath.Join(tmp, "packs"), "")
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(c.Name, "pack_manifest.json") && len(rows) == 0 {
				return // Find takes only a regular manifest as a pack's: not listed, not read
			}
			if len(rows) != 1 || !strings.Contains(rows[0].Error, "refused") || rows[0].PackID != "" || strings.Contains(rows[0].Error, packstest.Marker) {
				t.Fatalf("rows %+v", rows)
			}
		})
	}
}
