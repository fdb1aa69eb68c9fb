package doctor

import (
	"testing"

	"github.com/assay-dev/assay/core/pack"
)

// The rebuild hint names the run the pack's attestation records (the
// manifest has no top-level run_id), and TRACE_ID for a directory that is
// no pack.
func TestRunIDOfReadsTheAttestation(t *testing.T) {
	t.Parallel()
	dir := "../../testdata/vectors/pack/golden_minimal"
	p, err := pack.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := p.Attestation().RunID
	p.Close()
	if want == "" || runIDOf(dir) != shq(want) {
		t.Fatalf("runIDOf = %q, want %q", runIDOf(dir), shq(want))
	}
	if got := runIDOf(t.TempDir()); got != "TRACE_ID" {
		t.Fatalf("no pack: %q", got)
	}
}
