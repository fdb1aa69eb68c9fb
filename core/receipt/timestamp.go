package receipt

import (
	"strconv"
	"strings"
	"time"
)

// ParseTimestamp parses a receipt timestamp the way the reference's verifier
// does: Python 3.11's datetime.fromisoformat after replacing "Z" with
// "+00:00". It accepts extended and basic dates (YYYY-MM-DD, YYYYMMDD, and
// ISO week dates), any single separator character before the time, times of
// HH[:MM[:SS[.f+]]] (or basic HHMMSS), and an optional offset. A timestamp
// without an offset is taken as UTC.
func ParseTimestamp(s string) (time.Time, bool) {
	s = strings.ReplaceAll(s, "Z", "+00:00")
	if len(s) < 7 {
		return time.Time{}, false
	}
	dlen := dateLen(s)
	y, m, d, ok := parseDate(s[:min(dlen, len(s))])
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	rest := s[min(dlen, len(s)):]
	if rest == "" {
		return t, true
	}
	_, size := firstRune(rest)
	rest = rest[size:] // any single separator
	tzpos := strings.IndexAny(rest, "+-")
	tpart, zpart := rest, ""
	if tzpos >= 0 {
		tpart, zpart = rest[:tzpos], rest[tzpos:]
	}
	hh, mm, ss, ns, ok := parseTime(tpart)
	if !ok {
		return time.Time{}, false
	}
	off := 0
	if zpart != "" {
		sign := 1
		if zpart[0] == '-' {
			sign = -1
		}
		oh, om, os, ons, ok := parseTime(zpart[1:])
		if !ok {
			return time.Time{}, false
		}
		off = sign * (oh*3600 + om*60 + os)
		_ = ons
	}
	t = time.Date(y, time.Month(m), d, hh, mm, ss, ns, time.FixedZone("", off))
	return t, true
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return 0, i
		}
		_ = r
	}
	return 0, len(s)
}

// dateLen finds where the date ends, as CPython's separator search does.
func dateLen(s string) int {
	if len(s) >= 8 && s[4] == '-' {
		if s[5] == 'W' {
			if len(s) > 8 && s[8] == '-' {
				return 10
			}
			return 8
		}
		return 10
	}
	if s[4] == 'W' {
		if len(s) > 7 && isDigit(s[7]) {
			return 8
		}
		return 7
	}
	return 8
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func parseDate(s string) (y, m, d int, ok bool) {
	var ys, rest string
	if len(s) < 7 {
		return
	}
	ys, rest = s[:4], s[4:]
	if y, ok = digits(ys); !ok || y < 1 {
		return 0, 0, 0, false
	}
	rest = strings.TrimPrefix(rest, "-")
	if strings.HasPrefix(rest, "W") {
		if len(rest) < 3 {
			return 0, 0, 0, false
		}
		w, wok := digits(rest[1:3])
		day := 1
		if len(rest) > 3 {
			r := strings.TrimPrefix(rest[3:], "-")
			if day, ok = digits(r); !ok || len(r) != 1 || day < 1 || day > 7 {
				return 0, 0, 0, false
			}
		}
		if !wok || w < 1 || w > 53 {
			return 0, 0, 0, false
		}
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
		wd := int(jan4.Weekday()+6) % 7 // Monday = 0
		t := jan4.AddDate(0, 0, -wd+(w-1)*7+(day-1))
		if w == 53 {
			if _, isow := t.ISOWeek(); isow != 53 {
				return 0, 0, 0, false
			}
		}
		if t.Year() < 1 || t.Year() > 9999 {
			return 0, 0, 0, false // Python's date range: 9999-W52-7 is year 10000
		}
		return t.Year(), int(t.Month()), t.Day(), true
	}
	var ms, ds string
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		ms, ds = s[5:7], s[8:10]
	case len(s) == 8:
		ms, ds = s[4:6], s[6:8]
	default:
		return 0, 0, 0, false
	}
	m, ok1 := digits(ms)
	d, ok2 := digits(ds)
	if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 || d > time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// parseTime parses HH[:MM[:SS[(.|,)f+]]] or the basic HH[MM[SS[.f+]]].
func parseTime(s string) (hh, mm, ss, ns int, ok bool) {
	frac := ""
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		s, frac = s[:i], s[i+1:]
		if frac == "" {
			return
		}
		for i := 0; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return
			}
		}
	}
	parts := []string{}
	if strings.Contains(s, ":") {
		parts = strings.Split(s, ":")
	} else {
		for i := 0; i < len(s); i += 2 {
			parts = append(parts, s[i:min(i+2, len(s))])
		}
	}
	if len(parts) == 0 || len(parts) > 3 {
		return
	}
	vals := [3]int{}
	for i, p := range parts {
		if len(p) != 2 {
			return
		}
		v, vok := digits(p)
		if !vok {
			return
		}
		vals[i] = v
	}
	if frac != "" && len(parts) != 3 {
		return
	}
	if vals[0] > 23 || vals[1] > 59 || vals[2] > 59 {
		return
	}
	if frac != "" {
		f := (frac + "000000")[:6]
		us, _ := strconv.Atoi(f)
		ns = us * 1000
	}
	return vals[0], vals[1], vals[2], ns, true
}
