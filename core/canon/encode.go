package canon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Options tune the encoder.
type Options struct {
	// ASCIIKeys rejects any object key with a non-ASCII byte at any depth
	// (the receipt key policy, pack-format.md §2.4).
	ASCIIKeys bool
	// EscapeLineSeparators writes U+2028, U+2029 and U+0085 as \uXXXX so a
	// verifier that splits on Unicode line breaks still sees one receipt per
	// line (DECISIONS 7). The escaped form decodes to the same value.
	EscapeLineSeparators bool
	// KeepOrder writes object members in their stored order instead of
	// sorting them (for store lines, which are not canonical).
	KeepOrder bool
}

// ErrNonASCIIKey is returned under Options.ASCIIKeys.
var ErrNonASCIIKey = errors.New("non-ASCII object key")

// Marshal returns the canonical bytes of v.
func Marshal(v any) ([]byte, error) { return Options{}.Marshal(v) }

// Marshal returns the canonical bytes of v under these options.
// v may be a decoded value (see Decode) or ordinary Go data: maps with string
// keys, slices, strings, bools, integers, floats, json.Number and
// json.RawMessage; anything else goes through encoding/json first.
func (o Options) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := o.Append(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Append writes the canonical form of v to b.
func (o Options) Append(b *bytes.Buffer, v any) error {
	return o.enc(b, v, 0)
}

func (o Options) enc(b *bytes.Buffer, v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		return o.str(b, x)
	case Number:
		return number(b, string(x))
	case json.Number:
		return number(b, string(x))
	case NonFinite:
		return ErrNonFinite
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case uint32:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		return float(b, x)
	case float32:
		return float(b, float64(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := o.enc(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := o.str(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Object:
		return o.members(b, x.Members, depth)
	case Object:
		return o.members(b, x.Members, depth)
	case map[string]any:
		ms := make([]Member, 0, len(x))
		for k, e := range x {
			ms = append(ms, Member{k, e})
		}
		return o.members(b, ms, depth)
	case map[string]string:
		ms := make([]Member, 0, len(x))
		for k, e := range x {
			ms = append(ms, Member{k, e})
		}
		return o.members(b, ms, depth)
	case json.RawMessage:
		d, err := Decode(x)
		if err != nil {
			return err
		}
		return o.enc(b, d, depth+1)
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("canon: %w", err)
		}
		d, err := Decode(raw)
		if err != nil {
			return err
		}
		return o.enc(b, d, depth+1)
	}
	return nil
}

func (o Options) members(b *bytes.Buffer, ms []Member, depth int) error {
	if o.ASCIIKeys {
		for _, m := range ms {
			for i := 0; i < len(m.Key); i++ {
				if m.Key[i] >= 0x80 {
					return fmt.Errorf("%w %q", ErrNonASCIIKey, m.Key)
				}
			}
		}
	}
	sorted := ms
	if !o.KeepOrder && !sort.SliceIsSorted(ms, func(i, j int) bool { return keyLess(ms[i].Key, ms[j].Key) }) {
		sorted = append([]Member(nil), ms...)
		sort.Slice(sorted, func(i, j int) bool { return keyLess(sorted[i].Key, sorted[j].Key) })
	}
	b.WriteByte('{')
	for i, m := range sorted {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := o.str(b, m.Key); err != nil {
			return err
		}
		b.WriteByte(':')
		if err := o.enc(b, m.Value, depth+1); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// keyLess orders keys by UTF-16 code units, as RFC 8785 requires.
func keyLess(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return a < b
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

const hexdigits = "0123456789abcdef"

// str writes s with Python json.dumps(ensure_ascii=False) escaping.
func (o Options) str(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("canon: string is not valid UTF-8")
	}
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			if !o.EscapeLineSeparators {
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == 0x2028 || r == 0x2029 || r == 0x85 {
				b.WriteString(s[start:i])
				fmt.Fprintf(b, `\u%04x`, r)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&0xF])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
	return nil
}

// number writes a JSON number literal canonically.
func number(b *bytes.Buffer, lit string) error {
	if Number(lit).IsInt() {
		if !validInt(lit) {
			return fmt.Errorf("canon: invalid integer literal %q", lit)
		}
		if lit == "-0" {
			lit = "0"
		}
		b.WriteString(lit)
		return nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("canon: invalid number %q", lit)
	}
	return float(b, f)
}

func validInt(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// float writes f in the profile's form: shortest round-trip digits, plain
// decimal when the exponent is in [-6, 20], else d.dddE<exp>.
func float(b *bytes.Buffer, f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return ErrNonFinite
	}
	if f == 0 {
		b.WriteByte('0')
		return nil
	}
	if f < 0 {
		b.WriteByte('-')
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.dddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "0"
	}
	switch {
	case exp >= -6 && exp <= 20:
		if exp < 0 {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		} else if len(digits) <= exp+1 {
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", exp+1-len(digits)))
		} else {
			b.WriteString(digits[:exp+1])
			b.WriteByte('.')
			b.WriteString(digits[exp+1:])
		}
	default:
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('E')
		b.WriteString(strconv.Itoa(exp))
	}
	return nil
}

// Canonicalize decodes data and returns its canonical bytes.
func (o Options) Canonicalize(data []byte) ([]byte, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return o.Marshal(v)
}
