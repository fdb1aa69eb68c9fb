package store

import (
	"regexp"
	"strings"
	"testing"
)

// ValidTraceID accepts exactly 1-200 of [A-Za-z0-9._-], not starting with
// a dot (the rule it had as a regexp).
func TestValidTraceID(t *testing.T) {
	t.Parallel()
	rule := regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)
	for _, id := range []string{
		"trace_20260115T115900_1a2b3c4d", "a", "A-Z_0.9", strings.Repeat("x", 200), strings.Repeat("x", 201),
		"", ".hidden", "..", "a/b", `a\b`, "a b", "tráce", "a\x00", "a\n", "~", "trace:1",
	} {
		want := rule.MatchString(id) && !strings.HasPrefix(id, ".")
		if got := ValidTraceID(id) == nil; got != want {
			t.Errorf("ValidTraceID(%q) ok=%v, want %v", id, got, want)
		}
	}
}
