package explain

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// A pack with a file linking out of it is refused (exit 3) before any of
// it is read: the outside file's content appears nowhere, and an outside
// FIFO is never opened (the test would block).
func TestExplainRefusesLinksOutOfThePack(t *testing.T) {
	t.Parallel()
	src := fixture(t)
	for _, c := range packstest.LinkCases() {
		t.Run(c.Name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "pack")
			packstest.Copy(t, src, dir)
			c.Make(t, dir, filepath.Join(base, "outside"))
			e, err := Pack(dir)
			if exit.Code(err) != exit.BadInput || e != nil {
				t.Fatalf("explain: %v (exit %d), %+v; want refused with exit 3", err, exit.Code(err), e)
			}
			if !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), packstest.Marker) {
				t.Fatalf("error %q", err)
			}
		})
	}
}
