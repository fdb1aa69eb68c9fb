package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/jsonrpc"
	"github.com/assay-dev/assay/core/store"
)

// Class: the MCP server's envelope (stdio). Every line is checked by
// core/jsonrpc before mcp-go sees it: a tools/call spelled with case
// variants or duplicate members, a batch, two messages on one line, or a
// line over --max-message-bytes is answered with a JSON-RPC error and
// never runs (the trace holds no receipt its tool would have emitted), and
// each refused tools/call gets a denied receipt naming its tool. What
// mcp-go reads is the re-encoding of the checked message.
func TestStdioRefusesWhatItCannotReadExactly(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	const trace = "stdio_check_test"
	call := func(id string, params string) string {
		return `{"jsonrpc":"2.0","id":"` + id + `","method":"tools/call","params":` + params + `}`
	}
	emit := func(tag string) string {
		return `"arguments":{"type":"decision_v1","data":{"tag":"` + tag + `"}}`
	}
	refused := []string{
		`{"jsonrpc":"2.0","id":"m","Method":"tools/call","params":{"name":"emit-receipt",` + emit("Method") + `}}`,
		call("n", `{"Name":"emit-receipt",`+emit("Name")+`}`),
		call("a", `{"name":"emit-receipt","ARGUMENTS":{"type":"decision_v1","data":{"tag":"ARGUMENTS"}}}`),
		call("d", `{"name":"emit-receipt","name":"emit-receipt",`+emit("dup")+`}`),
		call("k", "{\"name\":\"emit-receipt\",\"tas\u212a\":{},"+emit("kelvin")+"}"),
		call("s", "{\"name\":\"emit-receipt\",\"argument\u017f\":{},"+emit("longs")+"}"),
		"[" + call("b", `{"name":"emit-receipt",`+emit("batch")+`}`) + "]",
		`{"jsonrpc":"2.0","id":"p","method":"ping"} ` + call("two", `{"name":"emit-receipt",`+emit("two")+`}`),
	}
	var in strings.Builder
	in.WriteString(initBody + "\n" + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	for _, r := range refused {
		in.WriteString(r + "\n")
	}
	in.WriteString(call("big", `{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"pad":"`+strings.Repeat("x", 8192)+`"}}}`) + "\n")
	in.WriteString(call("ok", `{"name":"emit-receipt",`+emit("ok")+`}`) + "\n")
	var out lockedBuf
	o := Options{Roots: []string{root}, LogLevel: "error", LogFormat: "json", TraceID: trace, MaxMessage: 4096, Env: []string{"ASSAY_HOME=" + home}}
	if err := Run(context.Background(), o, strings.NewReader(in.String()), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	answers := map[string]int{} // id -> error code (0: a result)
	sc := bufio.NewScanner(bytes.NewReader(out.b.Bytes()))
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q: %v", sc.Text(), err)
		}
		if m.Error != nil {
			answers[string(m.ID)] = m.Error.Code
		} else {
			answers[string(m.ID)] = 0
		}
	}
	for _, id := range []string{`"m"`, `"n"`, `"a"`, `"d"`, `"k"`, `"s"`} {
		if c := answers[id]; c != -32600 && c != -32602 {
			t.Errorf("id %s answered %d, want a refusal (%v)", id, c, answers)
		}
	}
	if c, ok := answers["null"]; !ok || c != -32600 {
		t.Errorf("the batch, the two-message line and the oversized line: %v", answers)
	}
	if c, ok := answers[`"ok"`]; !ok || c != 0 {
		t.Errorf("the proper call: %v", answers)
	}
	recs, _, err := store.Open(home).Read(trace)
	if err != nil {
		t.Fatal(err)
	}
	decisions, denied, completed := 0, 0, 0
	for _, r := range recs {
		typ, _ := r.Get("type")
		switch typ {
		case "decision_v1":
			decisions++
			if b, _ := json.Marshal(r); !bytes.Contains(b, []byte(`"ok"`)) {
				t.Errorf("a refused call ran: %s", b)
			}
		case "mcp_tool_call":
			tool, _ := r.Get("tool_name")
			outcome, _ := r.Get("outcome")
			if tool != "emit-receipt" {
				t.Errorf("receipt names tool %v", tool)
			}
			switch outcome {
			case "denied":
				denied++
			case "completed":
				completed++
			}
		}
	}
	// m, n, a, d, k, s, the batch's call, the second message's call and
	// the oversized line's call.
	if decisions != 1 || completed != 1 || denied != 9 {
		t.Errorf("decision_v1 %d, completed %d, denied %d; want 1, 1, 9", decisions, completed, denied)
	}
}

// FuzzCheckedInput: whatever stdin holds, what the check passes on is a
// sequence of lines each of which core/jsonrpc accepts as it is (a fixed
// point), and every input line is either passed on or answered.
func FuzzCheckedInput(f *testing.F) {
	f.Add([]byte(initBody + "\n" + `{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"x"}}` + "\n"))
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"method":"ping"}]` + "\n" + strings.Repeat("y", 300) + "\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var answered bytes.Buffer
		c := newCheckedInput(bytes.NewReader(b), &answered, 256, zerologNop(), nil)
		passed, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.SplitAfter(passed, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if line[len(line)-1] != '\n' {
				t.Fatalf("a passed line without its newline: %q", line)
			}
			if err := checkFixedPoint(line[:len(line)-1]); err != nil {
				t.Fatal(err)
			}
		}
		lines := bytes.Count(b, []byte("\n")) + 1
		if got := bytes.Count(passed, []byte("\n")) + bytes.Count(answered.Bytes(), []byte("\n")); got > lines {
			t.Fatalf("%d messages out of %d lines", got, lines)
		}
	})
}

func checkFixedPoint(b []byte) error {
	m, err := decode(b)
	if err != nil {
		return fmt.Errorf("passed on a line the check refuses: %q: %v", b, err)
	}
	if !bytes.Equal(m, b) {
		return fmt.Errorf("passed on %q, whose re-encoding is %q", b, m)
	}
	return nil
}

func decode(b []byte) ([]byte, error) {
	m, err := jsonrpc.Decode(b)
	if err != nil {
		return nil, err
	}
	return m.Encode(), nil
}

func zerologNop() zerolog.Logger { return zerolog.Nop() }
