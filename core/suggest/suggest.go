// Package suggest finds the closest known word to a mistyped one (commands,
// flags, card and flow names, formats), for "did you mean" hints.
package suggest

import "strings"

// Closest returns the option nearest to input by edit distance when it is
// close enough to be a typo (at most a third of the word, at least 1, or
// input is a prefix of exactly one option), else "".
func Closest(input string, options []string) string {
	in := strings.ToLower(strings.TrimSpace(input))
	if in == "" {
		return ""
	}
	best, bestD := "", -1
	var prefixed []string
	for _, o := range options {
		lo := strings.ToLower(o)
		if lo == in {
			return ""
		}
		if strings.HasPrefix(lo, in) {
			prefixed = append(prefixed, o)
		}
		if d := distance(in, lo); bestD < 0 || d < bestD {
			best, bestD = o, d
		}
	}
	limit := max(1, len(in)/3)
	if bestD >= 0 && bestD <= limit {
		return best
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// Hint is "did you mean X? " for the closest option, or "".
func Hint(input string, options []string) string {
	if c := Closest(input, options); c != "" {
		return "did you mean " + c + "? "
	}
	return ""
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance:
// a swap of two neighbours counts as one edit, as typos do.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
