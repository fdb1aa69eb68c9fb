package tlog

import "testing"

// TestLogReportExitCode: a split view or a bad anchor anywhere is exit 2,
// whatever comes after it; a missing anchor is 1; all consistent is 0.
func TestLogReportExitCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		statuses []string
		want     int
	}{
		{nil, 0},
		{[]string{"consistent", "consistent"}, 0},
		{[]string{"consistent", "no_anchor"}, 1},
		{[]string{"split_view", "no_anchor"}, 2},
		{[]string{"no_anchor", "invalid_anchor", "consistent"}, 2},
	}
	for _, tc := range cases {
		r := &LogReport{}
		for _, s := range tc.statuses {
			r.Packs = append(r.Packs, PackCheck{Status: s})
		}
		if got := r.ExitCode(); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.statuses, got, tc.want)
		}
	}
}
