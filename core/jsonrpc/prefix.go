package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ToolInPrefix names the tool the start of an oversized message asks for,
// read the way a lenient server would (the first "name" after a
// tools/call), or "" when the start names none.
func ToolInPrefix(b []byte) string {
	if !bytes.Contains(b, []byte("tools/call")) {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(b))
	depth, inParams, wantName := 0, false, false
	for {
		t, err := d.Token()
		if err != nil {
			return ""
		}
		switch v := t.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
				if depth <= 1 {
					inParams = false
				}
			}
		case string:
			if wantName {
				return v
			}
			// Keys and values are not told apart here: a value spelled
			// "params" or "name" at those depths only misleads this best
			// effort, never the check (the message is refused anyway).
			if depth == 1 && strings.EqualFold(v, "params") {
				inParams = true
			} else if depth == 2 && inParams && strings.EqualFold(v, "name") {
				wantName = true
			}
		default:
			wantName = false
		}
	}
}
