package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDecodeAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, enc string
		tool          string // "" when not a tools/call
		args          string
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, "", ""},
		{"member order and space", " {\"method\" : \"ping\",\n\"id\":\"a\", \"jsonrpc\":\"2.0\"}\r\n", `{"jsonrpc":"2.0","id":"a","method":"ping"}`, "", ""},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, "", ""},
		{"response", `{"jsonrpc":"2.0","id":7,"result":{"x":[1,2.5e3,true,null]}}`, `{"jsonrpc":"2.0","id":7,"result":{"x":[1,2.5e3,true,null]}}`, "", ""},
		{"error response null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`, "", ""},
		{"tools/call", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read","arguments":{"path":"a"}}}`,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read","arguments":{"path":"a"}}}`, "read", `{"path":"a"}`},
		{"tools/call escaped name", `{"jsonrpc":"2.0","id":2,"method":"tools\/call","params":{"na\u006de":"r\u0065ad"}}`,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read"}}`, "read", ""},
		{"tools/call null arguments and meta", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":null,"_meta":{"progressToken":1}}}`,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":null,"_meta":{"progressToken":1}}}`, "t", ""},
		{"argument keys differing from params keys only in case are fine", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":{"Name":"x"}}}`,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","arguments":{"Name":"x"}}}`, "t", `{"Name":"x"}`},
		{"big integer kept exactly", `{"jsonrpc":"2.0","id":12345678901234567890123,"method":"ping"}`, `{"jsonrpc":"2.0","id":12345678901234567890123,"method":"ping"}`, "", ""},
		{"unpaired surrogate becomes U+FFFD", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a\ud800b"}}`,
			"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"a\uFFFDb\"}}", "a\uFFFDb", ""},
		{"surrogate pair", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud83d\ude00"}}`,
			"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"\U0001F600\"}}", "\U0001F600", ""},
		{"line and paragraph separators escaped", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"s\":\"a\u2028b\u2029\"}}",
			`{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"a\u2028b\u2029"}}`, "", ""},
		{"control escapes re-encoded", `{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\u0001\n\"\\\/"}}`,
			`{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\u0001\n\"\\/"}}`, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode([]byte(c.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := string(m.Encode()); got != c.enc {
				t.Errorf("Encode:\n got %s\nwant %s", got, c.enc)
			}
			tc, ok := m.ToolCall()
			if ok != (c.tool != "") || tc.Name != c.tool || string(tc.Arguments) != c.args {
				t.Errorf("ToolCall = %+v, %v; want name %q args %q", tc, ok, c.tool, c.args)
			}
			// What we forward decodes to itself.
			m2, err := Decode(m.Encode())
			if err != nil || !bytes.Equal(m2.Encode(), m.Encode()) {
				t.Errorf("re-decoding the encoding: %v, %s", err, m2.Encode())
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	const call = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","arguments":{}}}`
	cases := []struct {
		name, in string
		reason   Reason
		code     int
		tools    []string // tools a lenient reader would have called
	}{
		{"Method", `{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"rm"}}`, ReasonCaseVariant, CodeInvalidRequest, []string{"rm"}},
		{"Params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"name":"rm"}}`, ReasonCaseVariant, CodeInvalidRequest, []string{"rm"}},
		{"Name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm"}}`, ReasonCaseVariant, CodeInvalidParams, []string{"rm"}},
		{"ARGUMENTS", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","ARGUMENTS":{"p":"/"}}}`, ReasonCaseVariant, CodeInvalidParams, []string{"rm"}},
		{"JSONRPC", `{"JSONRPC":"2.0","id":1,"method":"ping"}`, ReasonCaseVariant, CodeInvalidRequest, nil},
		{"ID", `{"jsonrpc":"2.0","ID":1,"method":"ping"}`, ReasonCaseVariant, CodeInvalidRequest, nil},
		{"long s in params (U+017F folds to s)", `{"jsonrpc":"2.0","id":1,"method":"tool\u0073/call","params":{"name":"ok","argument\u017f":{}}}`, ReasonCaseVariant, CodeInvalidParams, []string{"ok"}},
		{"long s in method member", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"ok\"},\"\u017fomething\":1}", ReasonUnknownMember, CodeInvalidRequest, []string{"ok"}},
		{"long s member name folds to params", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"param\u017f\":{\"name\":\"rm\"}}", ReasonCaseVariant, CodeInvalidRequest, []string{"rm"}},
		{"Kelvin sign", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"ok\",\"tas\u212a\":{}}}", ReasonCaseVariant, CodeInvalidParams, []string{"ok"}},
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"rm"}}`, ReasonDuplicate, CodeInvalidRequest, []string{"rm"}},
		{"duplicate name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","name":"rm"}}`, ReasonDuplicate, CodeInvalidRequest, []string{"rm"}},
		{"name and Name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","Name":"rm"}}`, ReasonDuplicate, CodeInvalidRequest, []string{"rm"}},
		{"method and METHOD", `{"jsonrpc":"2.0","id":1,"method":"ping","METHOD":"tools/call","params":{"name":"rm"}}`, ReasonDuplicate, CodeInvalidRequest, []string{"rm"}},
		{"duplicate deep in arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","arguments":{"a":{"p":1,"P":2}}}}`, ReasonDuplicate, CodeInvalidRequest, []string{"ok"}},
		{"escaped duplicate", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok","n\u0061me":"rm"}}`, ReasonDuplicate, CodeInvalidRequest, []string{"rm"}},
		{"unknown member", `{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}`, ReasonUnknownMember, CodeInvalidRequest, nil},
		{"params array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["rm"]}`, ReasonInvalid, CodeInvalidParams, []string{""}},
		{"params string", `{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}`, ReasonInvalid, CodeInvalidParams, nil},
		{"arguments array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","arguments":[1]}}`, ReasonInvalid, CodeInvalidParams, []string{"rm"}},
		{"name not a string", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}`, ReasonInvalid, CodeInvalidParams, []string{""}},
		{"tools/call without name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`, ReasonInvalid, CodeInvalidParams, []string{""}},
		{"tools/call without id", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}`, ReasonInvalid, CodeInvalidRequest, []string{"rm"}},
		{"request with null id", `{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"rm"}}`, ReasonInvalid, CodeInvalidRequest, []string{"rm"}},
		{"id object", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, ReasonInvalid, CodeInvalidRequest, nil},
		{"no version", `{"id":1,"method":"tools/call","params":{"name":"rm"}}`, ReasonInvalid, CodeInvalidRequest, []string{"rm"}},
		{"version 1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, ReasonInvalid, CodeInvalidRequest, nil},
		{"method and result", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"},"result":{}}`, ReasonInvalid, CodeInvalidRequest, []string{"rm"}},
		{"response with both", `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}`, ReasonInvalid, CodeInvalidRequest, nil},
		{"response with neither", `{"jsonrpc":"2.0","id":1}`, ReasonInvalid, CodeInvalidRequest, nil},
		{"batch", `[` + call + `,{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"cat"}}]`, ReasonBatch, CodeInvalidRequest, []string{"rm", "cat"}},
		{"two messages", call + "\n" + `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"cat"}}`, ReasonMultiple, CodeInvalidRequest, []string{"rm", "cat"}},
		{"two messages no space", `{"jsonrpc":"2.0","id":1,"method":"ping"}` + call, ReasonMultiple, CodeInvalidRequest, []string{"rm"}},
		{"trailing garbage", call + "x", ReasonMalformed, CodeParseError, []string{"rm"}},
		{"not json", `{"jsonrpc":`, ReasonMalformed, CodeParseError, nil},
		{"empty", ``, ReasonMalformed, CodeParseError, nil},
		{"invalid utf-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"r\xffm\"}}", ReasonMalformed, CodeParseError, []string{"r\uFFFDm"}},
		{"not an object", `"tools/call"`, ReasonInvalid, CodeInvalidRequest, nil},
		{"too deep", `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}}`, ReasonMalformed, CodeParseError, nil},
		{"leading zero", `{"jsonrpc":"2.0","id":01,"method":"m"}`, ReasonMalformed, CodeParseError, nil},
		{"raw control char", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\x01\"}", ReasonMalformed, CodeParseError, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode([]byte(c.in))
			if err == nil {
				t.Fatalf("Decode accepted it: %s", m.Encode())
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if e.Reason != c.reason || e.Code != c.code {
				t.Errorf("reason %q code %d, want %q %d (%s)", e.Reason, e.Code, c.reason, c.code, e.Detail)
			}
			var tools []string
			for _, r := range e.ToolCalls() {
				tools = append(tools, r.Tool)
			}
			if strings.Join(tools, ",") != strings.Join(c.tools, ",") || len(tools) != len(c.tools) {
				t.Errorf("requested tools %q, want %q", tools, c.tools)
			}
			for _, r := range e.ToolCalls() {
				if r.Tool != "" && !slices.Contains(r.Names, r.Tool) {
					t.Errorf("Names %q lack Tool %q", r.Names, r.Tool)
				}
			}
			// The answer is a valid JSON-RPC error response.
			var resp struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(e.Response(), &resp); err != nil || resp.JSONRPC != "2.0" || resp.Error.Code != c.code || resp.Error.Message == "" {
				t.Errorf("response %s: %v", e.Response(), err)
			}
			if _, err := Decode(e.Response()); err != nil {
				t.Errorf("our own error response does not pass Decode: %v", err)
			}
		})
	}
}

func TestRefusalAnswersWithTheID(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"jsonrpc":"2.0","id":"abc","Method":"tools/call","params":{"name":"rm"}}`))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if got := string(e.Response()); !strings.HasPrefix(got, `{"jsonrpc":"2.0","id":"abc","error":{"code":-32600,`) {
		t.Errorf("response %s", got)
	}
	_, err = Decode([]byte(`[{"jsonrpc":"2.0","id":"abc","method":"ping"}]`))
	errors.As(err, &e)
	if got := string(e.Response()); !strings.HasPrefix(got, `{"jsonrpc":"2.0","id":null,`) {
		t.Errorf("a batch is answered with a null id: %s", got)
	}
}

func TestErrorResponseID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{"": "null", "7": "7", `"x"`: `"x"`, "{}": "null", "1 2": "null", "null": "null"} {
		got := string(ErrorResponse(json.RawMessage(id), CodeInvalidRequest, "m\"x"))
		if w := `{"jsonrpc":"2.0","id":` + want + `,"error":{"code":-32600,"message":"m\"x"}}`; got != w {
			t.Errorf("ErrorResponse(%q) = %s, want %s", id, got, w)
		}
	}
}

func TestFoldNameMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	// encoding/json matches "name" to every spelling below; so must we.
	for _, n := range []string{"NAME", "Name", "nAmE", "\u212a", "k", "K", "\u017f", "S", "s"} {
		var v struct {
			Name string `json:"name"`
			K    string `json:"k"`
			S    string `json:"s"`
		}
		if err := json.Unmarshal([]byte(`{"`+n+`":"hit"}`), &v); err != nil {
			t.Fatal(err)
		}
		var field string
		switch {
		case v.Name == "hit":
			field = "name"
		case v.K == "hit":
			field = "k"
		case v.S == "hit":
			field = "s"
		}
		if field == "" || foldName(n) != foldName(field) {
			t.Errorf("%q: encoding/json matched %q; foldName %q vs %q", n, field, foldName(n), foldName(field))
		}
	}
}

// A message spelling its tool twice names both: which one runs depends on
// the server's reading of case.
func TestRefusalNamesEveryCandidateTool(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crash","Name":"echo"}}`:            "echo|crash,echo",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crash"},"Params":{"NAME":"echo"}}`: "echo|crash,echo",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b","nam\u0065":"a"}}`:   "a|a,b",
	} {
		_, err := Decode([]byte(in))
		var e *Error
		if !errors.As(err, &e) || len(e.ToolCalls()) != 1 {
			t.Fatalf("%s: %v", in, err)
		}
		r := e.ToolCalls()[0]
		if got := r.Tool + "|" + strings.Join(r.Names, ","); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
