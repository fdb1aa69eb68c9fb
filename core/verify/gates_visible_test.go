package verify

import (
	"testing"
	"time"
)

// A requested freshness or CI-binding gate is listed in Gates whether it
// passed or failed, so a user can see it was checked.
func TestTimeGatesAreListed(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, sampleReceipts(), nil)
	gate := func(r *Result, name string) *Gate {
		for i := range r.Gates {
			if r.Gates[i].Name == name {
				return &r.Gates[i]
			}
		}
		return nil
	}
	fresh, err := Verify(dir, Options{MaxAgeHours: 24 * 365 * 100})
	if err != nil {
		t.Fatal(err)
	}
	if g := gate(fresh, "max-age-hours"); fresh.ExitCode != 0 || g == nil || !g.Passed {
		t.Fatalf("fresh pack: exit %d gates %+v", fresh.ExitCode, fresh.Gates)
	}
	stale, _ := Verify(dir, Options{MaxAgeHours: 1, Now: time.Date(2126, 1, 1, 0, 0, 0, 0, time.UTC)})
	if g := gate(stale, "max-age-hours"); stale.ExitCode != 1 || g == nil || g.Passed {
		t.Fatalf("stale pack: exit %d gates %+v", stale.ExitCode, stale.Gates)
	}
	ci, _ := Verify(dir, Options{RequireCIBinding: true})
	if g := gate(ci, "ci-binding"); ci.ExitCode != 1 || g == nil || g.Passed || g.Detail != "no ci_binding" {
		t.Fatalf("no ci binding: exit %d gates %+v", ci.ExitCode, ci.Gates)
	}
	none, _ := Verify(dir, Options{})
	if gate(none, "max-age-hours") != nil || gate(none, "ci-binding") != nil {
		t.Fatalf("gates listed that were not requested: %+v", none.Gates)
	}
}
