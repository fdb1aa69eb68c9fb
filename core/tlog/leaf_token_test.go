package tlog

import (
	"strings"
	"testing"
)

// The leaf's field rules, written as loops instead of start-up regexps,
// accept and refuse exactly what the regexps did.
func TestLeafFieldRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"pack_1", true}, {"!~", true}, {strings.Repeat("a", 256), true},
		{"", false}, {strings.Repeat("a", 257), false}, {"a b", false}, {"a\nb", false},
		{"a\x7f", false}, {"é", false}, {"\x20", false},
	} {
		if got := packIDOK(tc.id); got != tc.ok {
			t.Errorf("packIDOK(%q) = %v", tc.id, got)
		}
	}
	h := strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		s  string
		ok bool
	}{{h, true}, {h[:63], false}, {h + "0", false}, {strings.ToUpper(h), false}, {h[:63] + "g", false}} {
		if got := hex64(tc.s); got != tc.ok {
			t.Errorf("hex64(%q) = %v", tc.s, got)
		}
	}
}
