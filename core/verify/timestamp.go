package verify

import "github.com/assay-dev/assay/core/receipt"

// validTimestamp reports whether receipt.ParseTimestamp accepts b. The
// reference form YYYY-MM-DDTHH:MM:SS[.f+](+00:00|Z) is recognised without
// allocating; anything else goes to ParseTimestamp itself, so the fast path
// can only say yes to what ParseTimestamp also accepts.
func validTimestamp(b []byte) bool {
	if fastTimestamp(b) {
		return true
	}
	return parseTimestamp(string(b))
}

// parseTimestamp is receipt.ParseTimestamp's verdict, with a panic (it
// slices past the end of some short ISO week dates, e.g. "0001-W0") taken
// as what it is: an unparseable timestamp, not a crashed verifier.
func parseTimestamp(s string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, ok = receipt.ParseTimestamp(s)
	return ok
}

func fastTimestamp(b []byte) bool {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return false
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	hh, ok4 := num(b[11:13])
	mm, ok5 := num(b[14:16])
	ss, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || hh > 23 || mm > 59 || ss > 59 {
		return false
	}
	rest := b[19:]
	if rest[0] == '.' || rest[0] == ',' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	return string(rest) == "+00:00" || string(rest) == "Z"
}

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
