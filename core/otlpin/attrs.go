package otlpin

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/assay-dev/assay/core/canon"
)

// attrs reads span attributes the way emitters actually send them: an int
// may arrive as an int, a whole double or a decimal string, a list as an
// array or a JSON string. pcommon.Map.Get's zero Value panics when used, so
// every read goes through get.
type attrs struct{ m pcommon.Map }

func (a attrs) get(k string) (pcommon.Value, bool) {
	v, ok := a.m.Get(k)
	if !ok || v.Type() == pcommon.ValueTypeEmpty {
		return pcommon.Value{}, false
	}
	return v, true
}

// str returns the first non-empty string value of keys.
func (a attrs) str(keys ...string) string {
	for _, k := range keys {
		if v, ok := a.get(k); ok && v.Type() == pcommon.ValueTypeStr {
			if s := strings.TrimSpace(v.Str()); s != "" {
				return s
			}
		}
	}
	return ""
}

// int returns the first integer value of keys (ok=false when none is one).
func (a attrs) int(keys ...string) (int64, bool) {
	for _, k := range keys {
		v, ok := a.get(k)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeInt:
			return v.Int(), true
		case pcommon.ValueTypeDouble:
			d := v.Double()
			if d == math.Trunc(d) && math.Abs(d) < 1<<53 {
				return int64(d), true
			}
		case pcommon.ValueTypeStr:
			if n, err := strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

// boolean returns the first boolean value of keys.
func (a attrs) boolean(keys ...string) (bool, bool) {
	for _, k := range keys {
		v, ok := a.get(k)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeBool:
			return v.Bool(), true
		case pcommon.ValueTypeStr:
			if b, err := strconv.ParseBool(strings.TrimSpace(v.Str())); err == nil {
				return b, true
			}
		}
	}
	return false, false
}

// first returns the first string of a list attribute (an array, a JSON
// array in a string, or a plain string).
func (a attrs) first(keys ...string) string {
	for _, k := range keys {
		v, ok := a.get(k)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeSlice:
			s := v.Slice()
			for i := 0; i < s.Len(); i++ {
				if e := s.At(i); e.Type() == pcommon.ValueTypeStr && e.Str() != "" {
					return e.Str()
				}
			}
		case pcommon.ValueTypeStr:
			t := strings.TrimSpace(v.Str())
			if strings.HasPrefix(t, "[") {
				var l []string
				if json.Unmarshal([]byte(t), &l) == nil {
					for _, e := range l {
						if e != "" {
							return e
						}
					}
					continue
				}
			}
			if t != "" {
				return t
			}
		}
	}
	return ""
}

// doc returns the value of key as a JSON-like document for hashing: a
// structured AnyValue is converted, a string holding JSON is decoded, any
// other string is kept as the string it is. ok=false when absent.
func (a attrs) doc(key string) (any, bool) {
	v, ok := a.get(key)
	if !ok {
		return nil, false
	}
	if v.Type() == pcommon.ValueTypeStr {
		s := v.Str()
		if d, err := canon.Decode([]byte(s)); err == nil {
			return d, true
		}
		return s, true
	}
	return toCanon(v, 0), true
}

// maxDepth bounds the conversion of nested AnyValues (pdata already bounds
// the decode; this keeps hashing iterative depth sane).
const maxDepth = 64

// toCanon converts an AnyValue into the values canon.Marshal encodes.
func toCanon(v pcommon.Value, depth int) any {
	if depth > maxDepth {
		return nil
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return v.AsString() // canonical JSON has no NaN or Inf
		}
		return d
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeBytes:
		return v.AsString() // base64, as OTLP/JSON writes bytes
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		out := make([]any, 0, s.Len())
		for i := 0; i < s.Len(); i++ {
			out = append(out, toCanon(s.At(i), depth+1))
		}
		return out
	case pcommon.ValueTypeMap:
		// Duplicate keys can arrive on the wire: the last one wins, as
		// with Set, without Set's quadratic scan on wide maps.
		m := v.Map()
		o := &canon.Object{Members: make([]canon.Member, 0, m.Len())}
		at := make(map[string]int, m.Len())
		for k, e := range m.All() {
			if i, dup := at[k]; dup {
				o.Members[i].Value = toCanon(e, depth+1)
				continue
			}
			at[k] = len(o.Members)
			o.Members = append(o.Members, canon.Member{Key: k, Value: toCanon(e, depth+1)})
		}
		return o
	}
	return nil
}
