// Package pyjson writes JSON the way the reference's Python does with
// json.dumps(v, indent=2): two-space indent, ": " after keys, no HTML
// escaping, and every non-ASCII character as a \uXXXX escape (surrogate
// pairs beyond the BMP). Files the reference reads or diffs byte for byte
// (coverage contracts, lock files, scan reports) are written with it.
package pyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Indent renders v like json.dumps(v, indent=2), without a trailing newline.
func Indent(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return EscapeNonASCII(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// EscapeNonASCII rewrites non-ASCII runes of encoded JSON (encoding/json
// only emits them inside strings) as \uXXXX escapes, as ensure_ascii does.
func EscapeNonASCII(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < 0x80:
			out.WriteRune(r)
		case r < 0x10000:
			fmt.Fprintf(&out, `\u%04x`, r)
		default:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		}
	}
	return out.Bytes()
}
