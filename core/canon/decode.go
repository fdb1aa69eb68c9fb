// Package canon implements the reference's canonical JSON profile
// ("Assay JCS profile v1", pack-format.md §2): RFC 8785 key order and string
// escaping, but exact big integers and Python-style float exponents.
//
// Decoding keeps integer and float literals apart (Number), keeps object
// members in order with last-duplicate-wins semantics (as Python's json.loads),
// and rejects lone surrogates instead of replacing them.
package canon

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Number is a JSON number literal exactly as it appeared in the input.
type Number string

// IsInt reports whether the literal is an integer (no '.', 'e' or 'E').
func (n Number) IsInt() bool {
	for i := 0; i < len(n); i++ {
		switch n[i] {
		case '.', 'e', 'E':
			return false
		}
	}
	return true
}

// Member is one key/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// Object is a JSON object with its members in input order and unique keys.
type Object struct {
	Members []Member
}

// Get returns the value stored under key.
func (o *Object) Get(key string) (any, bool) {
	for i := range o.Members {
		if o.Members[i].Key == key {
			return o.Members[i].Value, true
		}
	}
	return nil, false
}

// Set replaces the value under key or appends a new member.
func (o *Object) Set(key string, v any) {
	for i := range o.Members {
		if o.Members[i].Key == key {
			o.Members[i].Value = v
			return
		}
	}
	o.Members = append(o.Members, Member{key, v})
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	for i := range o.Members {
		if o.Members[i].Key == key {
			o.Members = append(o.Members[:i], o.Members[i+1:]...)
			return
		}
	}
}

// String returns the string under key, or "" when absent or not a string.
func (o *Object) String(key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}

// SyntaxError reports malformed JSON input.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// ErrNonFinite is returned for NaN, Infinity and float literals that overflow.
var ErrNonFinite = errors.New("non-finite number cannot be canonicalized")

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

// Decode parses one JSON document. Values are nil, bool, string, Number,
// []any and *Object. NaN, Infinity and -Infinity are accepted (as Python's
// json.loads does) and decode to NonFinite, which Encode refuses.
func Decode(data []byte) (any, error) {
	d := decoder{data: data}
	d.skipWS()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipWS()
	if d.pos != len(d.data) {
		return nil, d.errf("trailing data after JSON value")
	}
	return v, nil
}

// NonFinite is a decoded NaN or Infinity literal.
type NonFinite string

type decoder struct {
	data []byte
	pos  int
	buf  []byte
}

func (d *decoder) errf(format string, args ...any) error {
	return &SyntaxError{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errf("nesting deeper than %d", maxDepth)
	}
	if d.pos >= len(d.data) {
		return nil, d.errf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == 'N':
		return NonFinite("NaN"), d.lit("NaN")
	case c == 'I':
		return NonFinite("Infinity"), d.lit("Infinity")
	case c == '-' && d.pos+1 < len(d.data) && d.data[d.pos+1] == 'I':
		return NonFinite("-Infinity"), d.lit("-Infinity")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, d.errf("unexpected character %q", c)
	}
}

func (d *decoder) lit(s string) error {
	if len(d.data)-d.pos < len(s) || string(d.data[d.pos:d.pos+len(s)]) != s {
		return d.errf("invalid literal")
	}
	d.pos += len(s)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	d.pos++ // '{'
	obj := &Object{}
	d.skipWS()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return obj, nil
	}
	for {
		d.skipWS()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errf("expected object key")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipWS()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errf("expected ':' after object key")
		}
		d.pos++
		d.skipWS()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj.Set(k, v) // duplicate keys: last one wins, as Python
		d.skipWS()
		if d.pos >= len(d.data) {
			return nil, d.errf("unexpected end of input in object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return obj, nil
		default:
			return nil, d.errf("expected ',' or '}' in object")
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	d.pos++ // '['
	arr := []any{}
	d.skipWS()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return arr, nil
	}
	for {
		d.skipWS()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		d.skipWS()
		if d.pos >= len(d.data) {
			return nil, d.errf("unexpected end of input in array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return arr, nil
		default:
			return nil, d.errf("expected ',' or ']' in array")
		}
	}
}

func (d *decoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		return nil, d.errf("invalid number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.errf("invalid number fraction")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.errf("invalid number exponent")
		}
	}
	return Number(d.data[start:d.pos]), nil
}

// str decodes a string starting at the opening quote.
func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	// Fast path: no escapes, ASCII or valid UTF-8 only.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.data[start:d.pos]
			d.pos++
			if !utf8.Valid(s) {
				return "", &SyntaxError{Offset: start, Msg: "invalid UTF-8 in string"}
			}
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", d.errf("control character in string")
		}
		d.pos++
	}
	buf := append(d.buf[:0], d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = buf
			if !utf8.Valid(buf) {
				return "", &SyntaxError{Offset: start, Msg: "invalid UTF-8 in string"}
			}
			return string(buf), nil
		case c < 0x20:
			return "", d.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		d.pos++
		if d.pos >= len(d.data) {
			break
		}
		e := d.data[d.pos]
		d.pos++
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
			r, err := d.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || d.pos+6 > len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
					return "", d.errf("lone surrogate \\u%04x", r)
				}
				d.pos += 2
				r2, err := d.hex4()
				if err != nil {
					return "", err
				}
				if r2 < 0xDC00 || r2 > 0xDFFF {
					return "", d.errf("lone surrogate \\u%04x", r)
				}
				r = utf16.DecodeRune(r, r2)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", d.errf("invalid escape \\%c", e)
		}
	}
	return "", d.errf("unterminated string")
}

func (d *decoder) hex4() (rune, error) {
	if d.pos+4 > len(d.data) {
		return 0, d.errf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(d.data[d.pos:d.pos+4]), 16, 32)
	if err != nil {
		return 0, d.errf("invalid \\u escape")
	}
	d.pos += 4
	return rune(v), nil
}
