package jsonrpc

// A one-pass JSON parser that validates, refuses duplicate and
// case-variant member names, and re-encodes as it goes. It keeps no tree:
// only the members of the top-level object (and of its params) are
// recorded, so a large message costs about twice its size, not a node per
// value.

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting; deeper messages are refused as malformed.
const maxDepth = 1000

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a parsed value: its kind, its compact re-encoding (recorded
// values only), its decoded text for a string, and the members of a
// recorded object.
type value struct {
	kind    kind
	str     string
	enc     []byte
	members []member
}

type member struct {
	name string
	val  value
}

func (v *value) encode(dst []byte) []byte { return append(dst, v.enc...) }

// member returns the member called name (exactly), or nil.
func (v *value) member(name string) *value {
	for i := range v.members {
		if v.members[i].name == name {
			return &v.members[i].val
		}
	}
	return nil
}

type parser struct {
	in  []byte
	pos int
	// dup is the first duplicate or case-variant pair of member names
	// seen anywhere; parsing goes on so that a syntax error still wins.
	dup string
}

// parse parses one JSON value from the start of b (after optional white
// space) and returns it, the first strictness violation ("" if none), and
// the bytes that follow. The top-level object's members are recorded, and
// so are those of its "params" member.
func parse(b []byte) (value, string, []byte, error) {
	p := &parser{in: b}
	p.space()
	out, v, err := p.value(nil, 0, 2)
	if err != nil {
		return value{}, "", nil, err
	}
	v.enc = out
	p.space()
	return v, p.dup, b[p.pos:], nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) space() {
	for p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
	}
}

func (p *parser) fail(what string) error {
	return errors.New(what + " at byte " + strconv.Itoa(p.pos))
}

// value parses a value at p.pos, appending its compact encoding to out.
// rec > 0 records an object's members; rec 2 (the top level) also records
// the members of its "params".
func (p *parser) value(out []byte, depth, rec int) ([]byte, value, error) {
	if p.pos >= len(p.in) {
		return out, value{}, p.fail("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return out, value{}, p.fail("nesting deeper than " + strconv.Itoa(maxDepth))
		}
		if c == '[' {
			out, err := p.array(out, depth)
			return out, value{kind: kindArray}, err
		}
		return p.object(out, depth, rec)
	case c == '"':
		s, err := p.string()
		if err != nil {
			return out, value{}, err
		}
		return appendString(out, s), value{kind: kindString, str: s}, nil
	case c == '-' || ('0' <= c && c <= '9'):
		start := p.pos
		if err := p.number(); err != nil {
			return out, value{}, err
		}
		return append(out, p.in[start:p.pos]...), value{kind: kindNumber}, nil
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if p.pos+len(lit) <= len(p.in) && string(p.in[p.pos:p.pos+len(lit)]) == lit {
				p.pos += len(lit)
				k := kindBool
				if lit == "null" {
					k = kindNull
				}
				return append(out, lit...), value{kind: k}, nil
			}
		}
		return out, value{}, p.fail("invalid character " + strconv.QuoteRune(rune(c)))
	}
}

func (p *parser) object(out []byte, depth, rec int) ([]byte, value, error) {
	v := value{kind: kindObject}
	p.pos++ // '{'
	out = append(out, '{')
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return append(out, '}'), v, nil
	}
	var names []string         // small objects: linear search
	var folded map[string]bool // large objects
	for i := 0; ; i++ {
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return out, v, p.fail("expected a member name")
		}
		name, err := p.string()
		if err != nil {
			return out, v, err
		}
		if p.dup == "" {
			p.checkName(name, &names, &folded)
		}
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return out, v, p.fail("expected ':'")
		}
		p.pos++
		p.space()
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, name)
		out = append(out, ':')
		start := len(out)
		childRec := 0
		if rec == 2 && name == "params" {
			childRec = 1
		}
		var mv value
		out, mv, err = p.value(out, depth+1, childRec)
		if err != nil {
			return out, v, err
		}
		if rec > 0 {
			mv.enc = append([]byte(nil), out[start:]...)
			v.members = append(v.members, member{name: name, val: mv})
		}
		p.space()
		if p.pos >= len(p.in) {
			return out, v, p.fail("unexpected end of input in an object")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.space()
			continue
		case '}':
			p.pos++
			return append(out, '}'), v, nil
		}
		return out, v, p.fail("expected ',' or '}'")
	}
}

// checkName records the first member name of an object that repeats
// another one exactly or after case folding (as encoding/json folds).
func (p *parser) checkName(name string, names *[]string, folded *map[string]bool) {
	f := foldName(name)
	if *folded == nil && len(*names) < 16 {
		for _, n := range *names {
			if foldName(n) == f {
				p.dup = dupMessage(n, name)
				return
			}
		}
		*names = append(*names, name)
		return
	}
	if *folded == nil {
		*folded = make(map[string]bool, 32)
		for _, n := range *names {
			(*folded)[foldName(n)] = true
		}
	}
	if (*folded)[f] {
		p.dup = dupMessage("", name)
		return
	}
	(*folded)[f] = true
}

func dupMessage(first, second string) string {
	if first == second || first == "" {
		return "member " + quote(second) + " appears more than once in one object (or with another case); member names must be unique and are case-sensitive"
	}
	return "members " + quote(first) + " and " + quote(second) + " differ only in case; member names are case-sensitive"
}

func (p *parser) array(out []byte, depth int) ([]byte, error) {
	p.pos++ // '['
	out = append(out, '[')
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return append(out, ']'), nil
	}
	for i := 0; ; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		var err error
		out, _, err = p.value(out, depth+1, 0)
		if err != nil {
			return out, err
		}
		p.space()
		if p.pos >= len(p.in) {
			return out, p.fail("unexpected end of input in an array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.space()
			continue
		case ']':
			p.pos++
			return append(out, ']'), nil
		}
		return out, p.fail("expected ',' or ']'")
	}
}

// number scans a JSON number (RFC 8259 grammar).
func (p *parser) number() error {
	in, i := p.in, p.pos
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && '1' <= in[i] && in[i] <= '9':
		for i < len(in) && '0' <= in[i] && in[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return p.fail("invalid number")
	}
	if i < len(in) && in[i] == '.' {
		i++
		if i >= len(in) || in[i] < '0' || in[i] > '9' {
			p.pos = i
			return p.fail("invalid number")
		}
		for i < len(in) && '0' <= in[i] && in[i] <= '9' {
			i++
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if i >= len(in) || in[i] < '0' || in[i] > '9' {
			p.pos = i
			return p.fail("invalid number")
		}
		for i < len(in) && '0' <= in[i] && in[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return nil
}

// string decodes a JSON string at p.pos the way encoding/json does: an
// unpaired surrogate escape becomes U+FFFD. (Invalid UTF-8 never gets
// here: Decode refuses it first.)
func (p *parser) string() (string, error) {
	in := p.in
	i := p.pos + 1
	start := i
	// Fast path: no escapes.
	for i < len(in) && in[i] != '"' && in[i] != '\\' && in[i] >= 0x20 {
		i++
	}
	if i < len(in) && in[i] == '"' {
		p.pos = i + 1
		return string(in[start:i]), nil
	}
	buf := append([]byte(nil), in[start:i]...)
	for {
		if i >= len(in) {
			p.pos = i
			return "", p.fail("unterminated string")
		}
		c := in[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(in) {
			p.pos = i
			return "", p.fail("unterminated string")
		}
		e := in[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(in, i)
			if !ok {
				p.pos = i
				return "", p.fail("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A valid pair decodes to one rune; anything else is U+FFFD,
				// and the following escape is read on its own.
				if i+1 < len(in) && in[i] == '\\' && in[i+1] == 'u' {
					if r2, ok := hex4(in, i+2); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							buf = utf8.AppendRune(buf, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.pos = i - 1
			return "", p.fail("invalid escape")
		}
	}
}

func hex4(in []byte, i int) (rune, bool) {
	if i+4 > len(in) {
		return 0, false
	}
	var r rune
	for _, c := range in[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// appendString appends s as a JSON string, escaping only what JSON
// requires (quote, backslash, control characters).
func appendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			// U+2028 and U+2029 are escaped as encoding/json does: some
			// JavaScript readers take them for line ends.
			out = append(out, '\\', 'u', '2', '0', '2', hex[s[i+2]&0xf])
			i += 2
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// foldName folds a member name as encoding/json matches names
// (bytes.EqualFold: ASCII upper case, Unicode simple folding).
func foldName(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, byte(r))
			continue
		}
		out = utf8.AppendRune(out, foldRune(r))
	}
	return string(out)
}

// foldRune returns the smallest rune of r's simple fold orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
