package scan

import (
	"regexp"
	"strings"
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
	re, err := regexp.Compile(translate(pat))
	if err != nil {
		// A set Go's syntax rejects (e.g. a reversed range): match the text
		// literally rather than fail the scan.
		re = regexp.MustCompile(`(?s)\A` + regexp.QuoteMeta(pat) + `\z`)
	}
	return Pattern{Text: pat, re: re}
}

// Match reports whether the relative path matches.
func (p Pattern) Match(rel string) bool { return p.re.MatchString(rel) }

func translate(pat string) string {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	rs := []rune(pat)
	n := len(rs)
	for i := 0; i < n; {
		c := rs[i]
		i++
		switch c {
		case '*':
			for i < n && rs[i] == '*' {
				i++
			}
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i
			if j < n && rs[j] == '!' {
				j++
			}
			if j < n && rs[j] == ']' {
				j++
			}
			for j < n && rs[j] != ']' {
				j++
			}
			if j >= n {
				b.WriteString(`\[`)
				continue
			}
			stuff := rs[i:j]
			i = j + 1
			switch {
			case len(stuff) == 0:
				b.WriteString(`[^\x00-\x{10FFFF}]`) // Python's (?!): never matches
			case len(stuff) == 1 && stuff[0] == '!':
				b.WriteString(`.`)
			default:
				b.WriteByte('[')
				k := 0
				if stuff[0] == '!' {
					b.WriteByte('^')
					k = 1
				}
				for ; k < len(stuff); k++ {
					switch r := stuff[k]; r {
					case '\\', '[', ']', '^':
						b.WriteByte('\\')
						b.WriteRune(r)
					default:
						b.WriteRune(r)
					}
				}
				b.WriteByte(']')
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	return b.String()
}
