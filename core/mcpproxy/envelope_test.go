package mcpproxy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Class: proxy envelope. A tools/call spelled with case-variant or
// duplicate members reaches a lenient server (mcp-go reads members as
// encoding/json does) as a call the policy never saw. Each such message
// must be refused in every mode: the client gets a JSON-RPC error, the
// real upstream (the fixture server, which logs every byte it reads) never
// sees the call, and a receipt names the tool that was asked for.
func TestEnvelopeVariantsNeverReachTheServer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		tool       string // the receipt's tool_name ("" when a lenient reader sees no tools/call)
		also       string // another name the receipt's outcome_detail must mention
	}{
		{"Method", `{"jsonrpc":"2.0","id":"c","Method":"tools/call","params":{"name":"crash","arguments":{"code":3}}}`, "crash", ""},
		{"Params", `{"jsonrpc":"2.0","id":"c","method":"tools/call","Params":{"name":"crash","arguments":{"code":3}}}`, "crash", ""},
		{"Name", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"Name":"crash","arguments":{"code":3}}}`, "crash", ""},
		{"ARGUMENTS", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"crash","ARGUMENTS":{"code":3}}}`, "crash", ""},
		{"name and Name", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"echo","Name":"crash","arguments":{"code":3}}}`, "crash", "echo"},
		{"Name then name", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"Name":"crash","name":"echo","arguments":{"code":3}}}`, "echo", "crash"},
		{"duplicate name", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"echo","name":"crash","arguments":{"code":3}}}`, "crash", "echo"},
		{"escaped duplicate name", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"echo","n\u0061me":"crash","arguments":{"code":3}}}`, "crash", "echo"},
		{"duplicate params", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"echo"},"params":{"name":"crash","arguments":{"code":3}}}`, "crash", "echo"},
		{"duplicate method", `{"jsonrpc":"2.0","id":"c","method":"ping","method":"tools/call","params":{"name":"crash","arguments":{"code":3}}}`, "crash", ""},
		{"long s folds to params", "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"param\u017f\":{\"name\":\"crash\",\"arguments\":{\"code\":3}}}", "crash", ""},
		{"long s folds to arguments", "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":{\"name\":\"crash\",\"argument\u017f\":{\"code\":3}}}", "crash", ""},
		{"Kelvin sign folds to task", "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":{\"name\":\"crash\",\"tas\u212a\":{},\"arguments\":{\"code\":3}}}", "crash", ""},
		{"Kelvin sign in a duplicate argument", "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":{\"name\":\"crash\",\"arguments\":{\"code\":3,\"\u212a\":1,\"k\":2}}}", "crash", ""},
		{"unknown member", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"crash","arguments":{"code":3}},"extra":1}`, "crash", ""},
		{"params not an object", `{"jsonrpc":"2.0","id":"c","method":"tools/call","params":["crash"]}`, "", ""},
		{"method and METHOD (lenient reader: ping)", `{"jsonrpc":"2.0","id":"c","method":"tools/call","METHOD":"ping","params":{"name":"crash","arguments":{"code":3}}}`, "-", ""},
	}
	modes := map[string]string{
		"enforce":   "mode: enforce\ntools:\n  deny: [crash]\n",
		"audit":     "mode: audit\ntools:\n  deny: [crash]\n",
		"no policy": "",
	}
	for mode, yaml := range modes {
		t.Run(mode, func(t *testing.T) {
			h := startProxy(t, func(o *Options) {
				if yaml != "" {
					o.Policy = loadPolicy(t, yaml)
				}
			})
			c := newLineClient(h)
			c.handshake()
			for _, tc := range cases {
				h.write([]byte(tc.body + "\n"))
				r := c.await("c")
				if code := errCode(r); code != -32600 && code != -32602 {
					t.Errorf("%s: answered %v, want an invalid-request or invalid-params error", tc.name, r)
				}
			}
			// The session still works: a proper call goes through.
			if r := c.call("ok", "echo", map[string]any{"x": 1}); r["result"] == nil {
				t.Fatalf("a proper call after the refusals: %v", r)
			}
			h.closeClient()
			s := h.wait()
			in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
			if bytes.Contains(in, []byte("crash")) || bytes.Contains(in, []byte(`"c"`)) {
				t.Errorf("the server read a refused message: %q", in)
			}
			recs := h.receipts("mcp_tool_call")
			i := 0
			for _, tc := range cases {
				if tc.tool == "-" {
					continue // no tools/call to a lenient reader: nothing to receipt
				}
				if i >= len(recs) {
					t.Fatalf("%s: no receipt (%d receipts)", tc.name, len(recs))
				}
				r := recs[i]
				i++
				if field(r, "tool_name") != tc.tool || field(r, "outcome") != OutcomeDenied || !strings.HasPrefix(field(r, "outcome_detail"), "malformed (") {
					t.Errorf("%s: receipt %s", tc.name, mustJSON(r))
				}
				if tc.also != "" && !strings.Contains(field(r, "outcome_detail"), `"`+tc.also+`"`) {
					t.Errorf("%s: outcome_detail %q does not name %q", tc.name, field(r, "outcome_detail"), tc.also)
				}
			}
			if len(recs) != i+1 || field(recs[i], "tool_name") != "echo" || field(recs[i], "outcome") != OutcomeForwarded {
				t.Errorf("%d receipts, want %d refusals and the forwarded echo", len(recs), i)
			}
			if s.Refused != i || !s.Complete {
				t.Errorf("session refused %d (want %d), complete %v %v", s.Refused, i, s.Complete, s.Incomplete)
			}
		})
	}
}
