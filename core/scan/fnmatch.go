package scan

import (
	"regexp"

	"github.com/assay-dev/assay/core/fnmatch"
)

// Pattern is one include/exclude pattern with Python fnmatch semantics:
// anchored to the whole relative path, '*' also matches '/', '?' one
// character, [seq] and [!seq] sets, no escapes, case-sensitive.
type Pattern struct {
	Text string
	re   *regexp.Regexp
}

// Compile translates a pattern the way Python's fnmatch.translate does.
func Compile(pat string) Pattern {
	re, _, err := fnmatch.Compile(pat)
	if err != nil {
		// Unreachable (the translator emits valid RE2): match the text
		// literally rather than fail the scan.
		re = regexp.MustCompile(`(?s)\A` + regexp.QuoteMeta(pat) + `\z`)
	}
	return Pattern{Text: pat, re: re}
}

// Match reports whether the relative path matches.
func (p Pattern) Match(rel string) bool { return p.re.MatchString(rel) }
