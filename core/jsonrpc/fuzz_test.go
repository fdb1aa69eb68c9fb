package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// seeds are messages worth mutating: valid calls and each refused shape.
var seeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","arguments":{"path":"a"}}}`,
	`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"rm","arguments":{"p":"/"},"_meta":{"progressToken":1}}}`,
	`{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"Name":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","ARGUMENTS":{}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","n\u0061me":"rm"}}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"param\u017f\":{\"name\":\"rm\"}}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"ok\",\"tas\u212a\":{}}}",
	`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}]`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`,
	`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a\ud800b"}}`,
}

// FuzzDecode: Decode never panics; what it accepts re-encodes to JSON that
// decodes to the same message (what we forward is what we checked), and
// what it refuses is an *Error with an answer.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T", err)
			}
			if !json.Valid(e.Response()) {
				t.Fatalf("invalid error response %s", e.Response())
			}
			return
		}
		enc := m.Encode()
		if !json.Valid(enc) {
			t.Fatalf("Encode gave invalid JSON %q", enc)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("the re-encoding %s is refused: %v", enc, err)
		}
		if !bytes.Equal(m2.Encode(), enc) {
			t.Fatalf("not a fixed point: %s vs %s", enc, m2.Encode())
		}
		tc, ok := m.ToolCall()
		tc2, ok2 := m2.ToolCall()
		if ok != ok2 || tc.Name != tc2.Name || !bytes.Equal(tc.Arguments, tc2.Arguments) {
			t.Fatalf("tool call changed by re-encoding: %+v vs %+v", tc, tc2)
		}
		// The re-encoding means to encoding/json what the input meant.
		var a, c any
		if json.Unmarshal(b, &a) != nil || json.Unmarshal(enc, &c) != nil || !jsonEqual(a, c) {
			t.Fatalf("re-encoding changed the value: %q -> %s", b, enc)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
