package mcpdrain

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/jsonrpc"
)

func TestResponseID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		line, id string
		ok       bool
	}{
		{`{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}`, `2`, true},
		{`{"jsonrpc":"2.0","id":"a b","error":{"code":-32601,"message":"x"}}`, `"a b"`, true},
		{`{"result":{"x":[1,{"id":9}]},"id":7,"jsonrpc":"2.0"}`, `7`, true}, // id after the result
		{` {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}`, `null`, true},
		{`{"jsonrpc":"2.0","id":3,"method":"roots/list"}`, ``, false},                  // a server request
		{`{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, ``, false}, // a notification
		{`{"jsonrpc":"2.0","id":4}`, ``, false},                                        // neither result nor error
		{`{"jsonrpc":"2.0","result":{}}`, ``, false},                                   // no id
		{`[{"id":1,"result":{}}]`, ``, false},
		{`not json`, ``, false},
		{``, ``, false},
	}
	for _, c := range cases {
		id, ok := responseID([]byte(c.line))
		if ok != c.ok || (ok && string(id) != c.id) {
			t.Errorf("responseID(%s) = %s, %v; want %s, %v", c.line, id, ok, c.id, c.ok)
		}
	}
}

// On any line that core/jsonrpc accepts, responseID agrees with it.
func FuzzResponseID(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}`,
		`{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"roots/list"}`,
		`{"jsonrpc":"2.0","method":"n"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		id, ok := responseID(line)
		m, err := jsonrpc.Decode(bytes.TrimSpace(line))
		if err != nil {
			return
		}
		if want := m.IsResponse(); ok != want {
			t.Fatalf("%s: responseID ok=%v, jsonrpc says response=%v", line, ok, want)
		}
		if ok && idKey(id) != idKey(m.ID) {
			t.Fatalf("%s: id %s, jsonrpc %s", line, id, m.ID)
		}
	})
}

// BenchmarkResponseID is the drain's cost per response of tools/list's
// size, against a full parse of the line.
func BenchmarkResponseID(b *testing.B) {
	tools := "[" + strings.Repeat(`{"name":"t","inputSchema":{"type":"object","properties":{"a":{"type":"string","description":"`+strings.Repeat("x", 300)+`"}}}},`, 80) + `{}]`
	line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 2, "result": map[string]any{"tools": json.RawMessage(tools)}})
	b.SetBytes(int64(len(line)))
	b.Run("responseID", func(b *testing.B) {
		for b.Loop() {
			responseID(line)
		}
	})
	b.Run("jsonrpc.Decode", func(b *testing.B) {
		for b.Loop() {
			_, _ = jsonrpc.Decode(line)
		}
	})
}
