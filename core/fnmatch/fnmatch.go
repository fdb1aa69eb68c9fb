// Package fnmatch matches names against glob patterns with the semantics of
// Python's fnmatch.fnmatchcase, which the reference uses for scan include and
// exclude patterns and for MCP policy tool globs. The translator was checked
// against CPython 3.11 on 89 globs x 88 names (testdata).
package fnmatch

import (
	"fmt"
	"regexp"
	"strings"
)

// neverMatch is an RE2 class that matches no character (RE2 has no (?!)).
const neverMatch = `[^\x00-\x{10FFFF}]`

// Info is what translating a glob found besides the regexp: the two
// cases where Python's fnmatch quietly does something the author almost
// certainly did not mean (the MCP policy loader refuses them).
type Info struct {
	Unclosed bool // a '[' without its ']' (fnmatch then matches a literal '[')
	EmptySet bool // a set such as [z-a] that matches no character
}

// Translate turns an fnmatch glob into an anchored RE2 expression with
// the semantics of Python's fnmatch.fnmatchcase (3.11): `*` matches any run
// of characters (newlines and '/' included), `?` one character, `[seq]` one
// character in seq, `[!seq]` one character not in seq; a ']' right after
// '[' or '[!' is literal, '-' between two characters is a range (a range
// whose end comes before its start is dropped, as Python does), and an
// unclosed '[' is a literal '['. There is no escape character.
//
// It follows fnmatch.translate step by step, but emits every set member as
// a \x{...} escape so no character can take on a regexp meaning.
func Translate(pat string) (string, Info) {
	var info Info
	p := []rune(pat)
	n := len(p)
	var b strings.Builder
	b.WriteString(`^(?s:`)
	lastStar := false
	for i := 0; i < n; {
		c := p[i]
		i++
		switch c {
		case '*':
			if !lastStar { // consecutive stars are one star
				b.WriteString(`.*`)
			}
			lastStar = true
			continue
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i
			if j < n && p[j] == '!' {
				j++
			}
			if j < n && p[j] == ']' {
				j++
			}
			for j < n && p[j] != ']' {
				j++
			}
			if j >= n {
				info.Unclosed = true
				b.WriteString(`\[`)
				break
			}
			set := parseSet(p, i, j)
			i = j + 1
			switch {
			case len(set) == 0:
				info.EmptySet = true
				b.WriteString(neverMatch)
			case len(set) == 1 && set[0].lit && set[0].r == '!':
				b.WriteString(`.`) // "[!]"-like negated empty set: any character
			default:
				b.WriteString(emitSet(set))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
		lastStar = false
	}
	b.WriteString(`)\z`)
	return b.String(), info
}

// setTok is one token of a set body: a literal character, or the range
// operator between the characters on either side of it.
type setTok struct {
	r   rune
	lit bool // false: range operator
}

// parseSet tokenises the set body p[i:j] exactly as fnmatch.translate
// splits it into chunks around range hyphens and drops empty ranges.
func parseSet(p []rune, i, j int) []setTok {
	body := p[i:j]
	hasHyphen := false
	for _, r := range body {
		if r == '-' {
			hasHyphen = true
		}
	}
	var toks []setTok
	if !hasHyphen {
		for _, r := range body {
			toks = append(toks, setTok{r: r, lit: true})
		}
		return toks
	}
	var chunks [][]rune
	k := i + 1
	if p[i] == '!' {
		k = i + 2
	}
	for {
		k = indexRune(p, '-', k, j)
		if k < 0 {
			break
		}
		chunks = append(chunks, append([]rune(nil), p[i:k]...))
		i = k + 1
		k += 3
	}
	if chunk := p[i:j]; len(chunk) > 0 {
		chunks = append(chunks, append([]rune(nil), chunk...))
	} else {
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], '-')
	}
	// Remove empty ranges (start after end), right to left, as Python does.
	for k := len(chunks) - 1; k > 0; k-- {
		prev, cur := chunks[k-1], chunks[k]
		if prev[len(prev)-1] > cur[0] {
			merged := append(append([]rune(nil), prev[:len(prev)-1]...), cur[1:]...)
			chunks[k-1] = merged
			chunks = append(chunks[:k], chunks[k+1:]...)
		}
	}
	for ci, ch := range chunks {
		if ci > 0 {
			toks = append(toks, setTok{})
		}
		for _, r := range ch {
			toks = append(toks, setTok{r: r, lit: true})
		}
	}
	return toks
}

// indexRune is Python's str.find(r, from, to) over runes.
func indexRune(p []rune, r rune, from, to int) int {
	for k := from; k < to && k < len(p); k++ {
		if p[k] == r {
			return k
		}
	}
	return -1
}

// emitSet writes a non-empty token list as an RE2 class. A leading '!'
// negates it; a range operator joins the literals on either side.
func emitSet(toks []setTok) string {
	var b strings.Builder
	b.WriteByte('[')
	if toks[0].lit && toks[0].r == '!' {
		b.WriteByte('^')
		toks = toks[1:]
	}
	for k := 0; k < len(toks); k++ {
		t := toks[k]
		if !t.lit {
			// Only reachable when the range's start was the negation '!'
			// (Python then reads the '-' as a literal too).
			fmt.Fprintf(&b, `\x{%x}`, '-')
			continue
		}
		fmt.Fprintf(&b, `\x{%x}`, t.r)
		if k+2 < len(toks) && !toks[k+1].lit && toks[k+2].lit {
			fmt.Fprintf(&b, `-\x{%x}`, toks[k+2].r)
			k += 2
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Compile compiles a glob with fnmatchcase semantics. The translator emits
// only valid RE2, so err is a guard.
func Compile(pat string) (*regexp.Regexp, Info, error) {
	expr, info := Translate(pat)
	re, err := regexp.Compile(expr)
	return re, info, err
}
