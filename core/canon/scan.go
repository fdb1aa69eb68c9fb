package canon

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Kind is the type of a scanned JSON value: its first byte ('{', '[', '"',
// 't', 'f', 'n'), '0' for any number, 'N' for NaN/Infinity/-Infinity.
type Kind byte

// Kinds reported by Scan.
const (
	KindObject    Kind = '{'
	KindArray     Kind = '['
	KindString    Kind = '"'
	KindNumber    Kind = '0'
	KindTrue      Kind = 't'
	KindFalse     Kind = 'f'
	KindNull      Kind = 'n'
	KindNonFinite Kind = 'N'
)

// ScanMember is one top-level member of an object, as Scan reports it, by
// offsets into the scanned input (no pointers: appending one is a plain
// copy).
type ScanMember struct {
	// KeyStart:KeyEnd is the raw key between its quotes; KeyEscaped reports
	// a backslash in it (decode it with UnquoteKey before comparing).
	KeyStart, KeyEnd int32
	// ValueStart:ValueEnd is the raw value; for a string it includes the
	// quotes and ValueEscaped reports a backslash in it.
	ValueStart, ValueEnd int32
	KeyEscaped           bool
	ValueEscaped         bool
	// Suspect reports that the member may fail to canonicalize under
	// Options{ASCIIKeys: true}: a non-ASCII key (this one or at any depth
	// below), a NaN/Infinity literal or a float literal that overflows. A
	// false Suspect is certain; a true one is not (a later duplicate key may
	// replace the offending value), so callers confirm with Decode+Marshal.
	Suspect bool
}

// Key returns the raw key within data, the input given to Scan.
func (m *ScanMember) Key(data []byte) []byte { return data[m.KeyStart:m.KeyEnd] }

// Value returns the raw value within data, the input given to Scan.
func (m *ScanMember) Value(data []byte) []byte { return data[m.ValueStart:m.ValueEnd] }

// ScanResult is what Scan learned about a document.
type ScanResult struct {
	// Valid is exactly "Decode would succeed".
	Valid bool
	// Kind is the top-level value's kind (meaningful only when Valid).
	Kind Kind
	// Suspect: see ScanMember.Suspect, for the whole document.
	Suspect bool
}

// Scan validates data as one JSON document with exactly Decode's rules
// (whitespace, nesting limit, NaN/Infinity literals, lone surrogates,
// invalid UTF-8, control characters) without building values and without
// allocating. When the top-level value is an object, its members are
// appended to dst[:0] in input order, duplicates included (Decode keeps the
// last value of a duplicate key in the first one's position); the returned
// slice is meaningful only when the result is Valid. Reusing it across calls
// keeps scanning allocation-free.
//
// Documents of 2 GiB or more do not fit the offsets; Scan panics on them
// rather than misreport (callers split input into lines first).
func Scan(data []byte, dst []ScanMember) (ScanResult, []ScanMember) {
	if len(data) > math.MaxInt32 {
		panic("canon.Scan: document larger than 2 GiB")
	}
	s := scanner{data: data, members: dst[:0]}
	s.plain = plainQuotes(data, &s.quotes)
	r := s.scan()
	return r, s.members
}

func (s *scanner) scan() ScanResult {
	data := s.data
	s.skipWS()
	if s.pos >= len(s.data) {
		return ScanResult{}
	}
	kind := Kind(s.data[s.pos])
	switch {
	case kind == '-' && s.pos+1 < len(data) && data[s.pos+1] == 'I', kind == 'I':
		kind = KindNonFinite
	case kind == '-' || kind >= '0' && kind <= '9':
		kind = KindNumber
	}
	if !s.value(0) {
		return ScanResult{}
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return ScanResult{}
	}
	return ScanResult{Valid: true, Kind: kind, Suspect: s.suspect}
}

// Unquote decodes a JSON string literal (with its quotes) as Decode does.
func Unquote(raw []byte) (string, error) {
	d := decoder{data: raw}
	if len(raw) == 0 || raw[0] != '"' {
		return "", d.errf("not a string")
	}
	s, err := d.str()
	if err == nil && d.pos != len(raw) {
		err = d.errf("trailing data after string")
	}
	return s, err
}

// UnquoteKey decodes a raw key as reported in ScanMember.Key.
func UnquoteKey(raw []byte) (string, error) {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	return Unquote(q)
}

type scanner struct {
	data    []byte
	pos     int
	members []ScanMember
	// plain: data has no backslash, control or non-ASCII byte, so every
	// '"' delimits a string and quotes (one bit per byte) finds its end.
	plain    bool
	quotes   [plainWords]uint64
	suspect  bool
	esc      bool // the last string scanned had a backslash
	nonASCII bool // the last string scanned decodes to non-ASCII
}

func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) bool {
	if depth > maxDepth || s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; c {
	case '"':
		return s.str()
	case '{':
		return s.object(depth)
	case '[':
		return s.array(depth)
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	case 'N':
		s.suspect = true
		return s.lit("NaN")
	case 'I':
		s.suspect = true
		return s.lit("Infinity")
	case '-':
		if s.pos+1 < len(s.data) && s.data[s.pos+1] == 'I' {
			s.suspect = true
			return s.lit("-Infinity")
		}
		return s.number()
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.number()
	}
	return false
}

func (s *scanner) lit(l string) bool {
	if len(s.data)-s.pos < len(l) || string(s.data[s.pos:s.pos+len(l)]) != l {
		return false
	}
	s.pos += len(l)
	return true
}

// plainMembers is object's member loop for the top level of a plain line
// (see plainQuotes): no string has an escape or a non-ASCII byte, so each
// ends at the next quote and only a value can be suspect. pos is at the
// first non-space byte after '{', which is not '}'.
func (s *scanner) plainMembers(pos int) bool {
	d := s.data
	for {
		for pos < len(d) && d[pos] <= ' ' && isWS(d[pos]) {
			pos++
		}
		if pos >= len(d) || d[pos] != '"' {
			return false
		}
		kstart := pos
		var kend int
		if b := s.quoteBits(pos); b != 0 {
			kend = pos + 2 + bits.TrailingZeros64(b)
		} else if kend = s.quoteAfter(pos); kend < 0 {
			return false
		}
		pos = kend
		for pos < len(d) && d[pos] <= ' ' && isWS(d[pos]) {
			pos++
		}
		if pos >= len(d) || d[pos] != ':' {
			return false
		}
		pos++
		for pos < len(d) && d[pos] <= ' ' && isWS(d[pos]) {
			pos++
		}
		vstart := pos
		suspect := false
		if pos < len(d) && d[pos] == '"' {
			if b := s.quoteBits(pos); b != 0 {
				pos += 2 + bits.TrailingZeros64(b)
			} else if pos = s.quoteAfter(pos); pos < 0 {
				return false
			}
		} else {
			outer := s.suspect
			s.suspect = false
			s.pos = pos
			if !s.value(1) {
				return false
			}
			pos, suspect = s.pos, s.suspect
			s.suspect = outer || suspect
		}
		n := len(s.members)
		if n < cap(s.members) {
			s.members = s.members[:n+1]
		} else {
			s.members = append(s.members, ScanMember{})
		}
		m := &s.members[n]
		m.KeyStart, m.KeyEnd, m.KeyEscaped = int32(kstart+1), int32(kend-1), false
		m.ValueStart, m.ValueEnd, m.ValueEscaped = int32(vstart), int32(pos), false
		m.Suspect = suspect
		for pos < len(d) && d[pos] <= ' ' && isWS(d[pos]) {
			pos++
		}
		if pos >= len(d) {
			return false
		}
		switch d[pos] {
		case ',':
			pos++
		case '}':
			s.pos = pos + 1
			return true
		default:
			return false
		}
	}
}

// quoteBits returns the quote bits after the quote at d[i] up to the end
// of its 64-byte word (inlined: the closing quote is usually there).
func (s *scanner) quoteBits(i int) uint64 {
	i++
	if w := i >> 6; w < len(s.quotes) {
		return s.quotes[w] >> (i & 63)
	}
	return 0
}

// quoteAfter returns the index after the quote closing the string opened
// at d[i] in a plain line, or -1 when it is unterminated.
func (s *scanner) quoteAfter(i int) int {
	// Small enough to inline: the quote is usually in the same word.
	if w := (i + 1) >> 6; w < len(s.quotes) {
		if b := s.quotes[w] >> ((i + 1) & 63); b != 0 {
			return i + 2 + bits.TrailingZeros64(b)
		}
	}
	end, _ := s.stringAt(i)
	return end
}

// isWS reports Decode's whitespace: ' ', '\t', '\n', '\r'.
func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) object(depth int) bool {
	// pos is kept in a local (written back around calls) so the member
	// loop runs in registers.
	d := s.data
	pos := s.pos + 1 // '{'
	for pos < len(d) && isWS(d[pos]) {
		pos++
	}
	if pos < len(d) && d[pos] == '}' {
		s.pos = pos + 1
		return true
	}
	top := depth == 0
	if top && s.plain {
		return s.plainMembers(pos)
	}
	for {
		for pos < len(d) && isWS(d[pos]) {
			pos++
		}
		if pos >= len(d) || d[pos] != '"' {
			return false
		}
		kstart := pos
		kend, kflags := s.stringAt(kstart)
		if kend < 0 {
			return false
		}
		pos = kend
		knon := kflags&strNonASCII != 0
		if knon {
			s.suspect = true
		}
		for pos < len(d) && isWS(d[pos]) {
			pos++
		}
		if pos >= len(d) || d[pos] != ':' {
			return false
		}
		pos++
		for pos < len(d) && isWS(d[pos]) {
			pos++
		}
		outer := s.suspect
		if top {
			s.suspect = false
		}
		vstart := pos
		var vflags uint8
		if pos < len(d) && d[pos] == '"' && depth < maxDepth {
			// Strings are most values: scan them without the dispatch.
			end, f := s.stringAt(pos)
			if end < 0 {
				return false
			}
			pos, vflags = end, f
		} else {
			s.pos = pos
			if !s.value(depth + 1) {
				return false
			}
			pos = s.pos
		}
		if top {
			// Fields are stored one by one: building the struct on the
			// stack and copying it stalls on store forwarding.
			n := len(s.members)
			if n < cap(s.members) {
				s.members = s.members[:n+1]
			} else {
				s.members = append(s.members, ScanMember{})
			}
			m := &s.members[n]
			m.KeyStart, m.KeyEnd, m.KeyEscaped = int32(kstart+1), int32(kend-1), kflags&strEscaped != 0
			m.ValueStart, m.ValueEnd, m.ValueEscaped = int32(vstart), int32(pos), vflags&strEscaped != 0
			m.Suspect = s.suspect || knon
			s.suspect = s.suspect || outer
		}
		for pos < len(d) && isWS(d[pos]) {
			pos++
		}
		if pos >= len(d) {
			return false
		}
		switch d[pos] {
		case ',':
			pos++
		case '}':
			s.pos = pos + 1
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.pos++ // '['
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		s.skipWS()
		if !s.value(depth + 1) {
			return false
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) number() bool {
	d, i := s.data, s.pos
	start := i
	if d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d) && d[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	frac, exp := false, false
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
		frac = true
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
		exp = true
	}
	s.pos = i
	// A float literal overflows to ±Inf only with an exponent or more than
	// 308 integer digits; only those need parsing.
	if exp || frac && i-start > 300 {
		lit := d[start:i]
		f, _ := strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64)
		if math.IsInf(f, 0) {
			s.suspect = true
		}
	}
	return true
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

const (
	strEscaped  = 1 // the string has a backslash
	strNonASCII = 2 // the string decodes to non-ASCII
)

// str scans a string starting at its opening quote, validating it as
// Decode's str does, and leaves pos after the closing quote.
func (s *scanner) str() bool {
	end, flags := s.stringAt(s.pos)
	if end < 0 {
		return false
	}
	s.pos = end
	s.esc, s.nonASCII = flags&strEscaped != 0, flags&strNonASCII != 0
	return true
}

// plainWords bounds the lines that take the plain path (4 KiB).
const plainWords = 64

const lo7 = 0x7f7f7f7f7f7f7f7f

// plainQuotes reports whether d has no backslash, control or non-ASCII
// byte and, when it has not, marks each '"' of d in q (bit i%64 of q[i/64]).
// One branch-free pass: finding a string's end is then a bit scan instead
// of a loop whose exit the CPU mispredicts once per string.
func plainQuotes(d []byte, q *[plainWords]uint64) bool {
	n := len(d)
	if n > plainWords*64 {
		return false
	}
	var bad uint64
	w := 0
	for ; w < n/64; w++ {
		b := (*[64]byte)(d[w*64:])
		b0, q0 := plainWord(binary.LittleEndian.Uint64(b[0:]))
		b1, q1 := plainWord(binary.LittleEndian.Uint64(b[8:]))
		b2, q2 := plainWord(binary.LittleEndian.Uint64(b[16:]))
		b3, q3 := plainWord(binary.LittleEndian.Uint64(b[24:]))
		b4, q4 := plainWord(binary.LittleEndian.Uint64(b[32:]))
		b5, q5 := plainWord(binary.LittleEndian.Uint64(b[40:]))
		b6, q6 := plainWord(binary.LittleEndian.Uint64(b[48:]))
		b7, q7 := plainWord(binary.LittleEndian.Uint64(b[56:]))
		bad |= b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7
		q[w] = q0 | q1<<8 | q2<<16 | q3<<24 | q4<<32 | q5<<40 | q6<<48 | q7<<56
	}
	if bad&hi8 != 0 {
		return false
	}
	if w*64 < n {
		var qw uint64
		i := w * 64
		for ; i+8 <= n; i += 8 {
			b, qs := plainWord(binary.LittleEndian.Uint64(d[i:]))
			if b&hi8 != 0 {
				return false
			}
			qw |= qs << (i & 63)
		}
		for ; i < n; i++ {
			switch c := d[i]; {
			case c == '\\' || c < 0x20 || c >= 0x80:
				return false
			case c == '"':
				qw |= 1 << (i & 63)
			}
		}
		q[w] = qw
	}
	return true
}

// plainWord returns, for eight bytes, a mask whose high bits flag a
// backslash, control or non-ASCII byte (no false positive without a true
// one) and the eight bits marking '"' bytes.
func plainWord(x uint64) (bad, quotes uint64) {
	// A byte under 0x20 borrows in x-0x20 and a backslash in b-1; a
	// non-ASCII byte has its own high bit. With every byte ASCII, no other
	// byte sets a high bit unless a lower one borrowed, which is a true
	// positive already.
	b := x ^ (lo8 * '\\')
	t := x ^ (lo8 * '"')
	z := ^((t&lo7 + lo7) | t) & hi8 // exact: high bit set where the byte is '"'
	return x | (x - lo8*0x20) | (b - lo8), (z >> 7) * 0x0102040810204080 >> 56
}

// stringAt scans the string whose opening quote is at d[i]; see scanString.
func (s *scanner) stringAt(i int) (int, uint8) {
	if !s.plain {
		return scanString(s.data, i)
	}
	i++
	w := i >> 6
	if w >= len(s.quotes) {
		return -1, 0
	}
	if b := s.quotes[w] >> (i & 63); b != 0 {
		return i + bits.TrailingZeros64(b) + 1, 0
	}
	for w++; w < (len(s.data)+63)/64; w++ {
		if b := s.quotes[w]; b != 0 {
			return w<<6 + bits.TrailingZeros64(b) + 1, 0
		}
	}
	return -1, 0
}

// special has the high bit set in each byte of x that is '"', '\\', a
// control character or non-ASCII; the lowest set bit is exact (borrows only
// cause false positives above a true one).
func special(x uint64) uint64 {
	q := x ^ (lo8 * '"')
	b := x ^ (lo8 * '\\')
	return (x | (x-lo8*0x20)&^x | (q-lo8)&^q | (b-lo8)&^b) & hi8
}

// scanString validates the string whose opening quote is at d[i] and
// returns the index after its closing quote (-1 when invalid) and its flags.
// A free function over locals, so the hot loop stays in registers.
func scanString(d []byte, i int) (int, uint8) {
	i++
	var flags uint8
	for {
		// Sixteen, then eight bytes at a time up to the first special byte.
		if i+16 <= len(d) {
			if m := special(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
			} else if m := special(binary.LittleEndian.Uint64(d[i+8:])); m != 0 {
				i += 8 + bits.TrailingZeros64(m)>>3
			} else {
				i += 16
				continue
			}
		} else if i+8 <= len(d) {
			m := special(binary.LittleEndian.Uint64(d[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else if i >= len(d) {
			return -1, 0
		}
		c := d[i]
		switch {
		case c == '"':
			return i + 1, flags
		case c == '\\':
			flags |= strEscaped
			i++
			if i >= len(d) {
				return -1, 0
			}
			e := d[i]
			i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				r, ok := hex4(d, i)
				if !ok {
					return -1, 0
				}
				i += 4
				if r >= 0xD800 && r <= 0xDFFF {
					if r >= 0xDC00 || i+6 > len(d) || d[i] != '\\' || d[i+1] != 'u' {
						return -1, 0
					}
					i += 2
					r2, ok := hex4(d, i)
					if !ok {
						return -1, 0
					}
					i += 4
					if r2 < 0xDC00 || r2 > 0xDFFF {
						return -1, 0
					}
					r = 0x10000 // a pair always decodes above the BMP
				}
				if r >= 0x80 {
					flags |= strNonASCII
				}
			default:
				return -1, 0
			}
		case c < 0x20:
			return -1, 0
		case c >= 0x80:
			// Continuation bytes are never '"' or '\\', so decoding past
			// the string's end cannot change the verdict.
			_, size := utf8.DecodeRune(d[i:])
			if size == 1 {
				return -1, 0
			}
			i += size
			flags |= strNonASCII
		default:
			i++
		}
	}
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
