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

	"github.com/assay-dev/assay/core/store"
)

// Class: receipts of refusals (stdio server). A tools/call before
// initialize is refused with a JSON-RPC error, never served, and leaves a
// denied mcp_tool_call receipt naming the requested tool (outcome_detail
// before_initialize), as core/mcpproxy does; a call carrying a
// 2026-07-28-era protocol version (an era without the handshake) is
// served. An oversized line is answered with an error and receipted: as
// the tool its start names, else as an unnamed attempt.
func TestStdioRefusalReceipts(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	const trace = "stdio_refusal_test"
	emit := func(id, tag, meta string) string {
		return `{"jsonrpc":"2.0","id":"` + id + `","method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"tag":"` + tag + `"}}` + meta + `}}`
	}
	big := `{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"scan","arguments":{"pad":"` + strings.Repeat("x", 8192) + `"}}}`
	bigPing := `{"jsonrpc":"2.0","id":"bp","method":"ping","params":{"pad":"` + strings.Repeat("y", 8192) + `"}}`
	modern := `,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}`
	in := strings.Join([]string{
		emit("early", "early", ""),
		emit("modern", "modern", modern),
		big,
		bigPing,
		initBody,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		emit("late", "late", ""),
	}, "\n") + "\n"
	var out lockedBuf
	o := Options{Roots: []string{root}, LogLevel: "error", LogFormat: "json", TraceID: trace, MaxMessage: 4096, Env: []string{"ASSAY_HOME=" + home}}
	if err := Run(context.Background(), o, strings.NewReader(in), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int // 0: a result
		msg  string
	}
	answers := map[string][]answer{}
	sc := bufio.NewScanner(bytes.NewReader(out.b.Bytes()))
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q: %v", sc.Text(), err)
		}
		a := answer{}
		if m.Error != nil {
			a = answer{m.Error.Code, m.Error.Message}
		}
		answers[string(m.ID)] = append(answers[string(m.ID)], a)
	}
	if a := answers[`"early"`]; len(a) != 1 || a[0].code != -32600 || !strings.Contains(a[0].msg, "before initialize") {
		t.Errorf("tools/call before initialize answered %v, want one -32600 naming initialize", a)
	}
	if a := answers[`"late"`]; len(a) != 1 || a[0].code != 0 {
		t.Errorf("tools/call after initialize answered %v, want a result", a)
	}
	if a := answers[`"modern"`]; len(a) != 1 || a[0].code != 0 {
		t.Errorf("2026-07-28 tools/call without initialize answered %v, want a result", a)
	}
	if a := answers["null"]; len(a) != 2 || a[0].code != -32600 || a[1].code != -32600 {
		t.Errorf("the two oversized lines answered %v, want two -32600", a)
	}

	recs, _, err := store.Open(home).Read(trace)
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	type got struct{ outcome, detail string }
	calls := map[string][]got{} // tool_name -> receipts
	for _, r := range recs {
		switch typ, _ := r.Get("type"); typ {
		case "decision_v1":
			b, _ := json.Marshal(r)
			for _, tag := range []string{"early", "modern", "late"} {
				if bytes.Contains(b, []byte(`"`+tag+`"`)) {
					tags[tag] = true
				}
			}
		case "mcp_tool_call":
			tool, _ := r.Get("tool_name")
			outcome, _ := r.Get("outcome")
			detail, _ := r.Get("outcome_detail")
			ts, _ := tool.(string)
			os, _ := outcome.(string)
			ds, _ := detail.(string)
			calls[ts] = append(calls[ts], got{os, ds})
		}
	}
	if tags["early"] || !tags["late"] || !tags["modern"] {
		t.Errorf("emitted decisions %v, want late and modern only (the early call must not run)", tags)
	}
	var emitDenied, emitDone int
	for _, c := range calls["emit-receipt"] {
		switch {
		case c.outcome == "denied" && strings.HasPrefix(c.detail, "before_initialize: "):
			emitDenied++
		case c.outcome == "completed":
			emitDone++
		default:
			t.Errorf("emit-receipt receipt %+v", c)
		}
	}
	if emitDenied != 1 || emitDone != 2 {
		t.Errorf("emit-receipt receipts: %d denied before_initialize, %d completed; want 1, 2 (%v)", emitDenied, emitDone, calls)
	}
	if c := calls["scan"]; len(c) != 1 || c[0].outcome != "denied" || !strings.HasPrefix(c[0].detail, "oversized: ") {
		t.Errorf("oversized tools/call of scan: receipts %v, want one denied oversized", c)
	}
	if c := calls[""]; len(c) != 1 || c[0].outcome != "denied" || !strings.HasPrefix(c[0].detail, "oversized: ") {
		t.Errorf("oversized line naming no tool: receipts %v, want one unnamed denied oversized", c)
	}
}

// A protocol version that merely sorts after 2026-07-28 ("9999-12-31", "z")
// is not the handshake-free era, and a case-variant _META is refused by the
// envelope: each call before initialize is answered with an error and never
// runs.
func TestStdioUnknownEraIsRefusedBeforeInitialize(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	const trace = "stdio_unknown_era_test"
	var lines []string
	for i, meta := range []string{
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"9999-12-31"}`,
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"z"}`,
		`"_META":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`,
	} {
		lines = append(lines, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"tag":"x"}},%s}}`, i, meta))
	}
	var out lockedBuf
	o := Options{Roots: []string{root}, LogLevel: "error", LogFormat: "json", TraceID: trace, Env: []string{"ASSAY_HOME=" + home}}
	if err := Run(context.Background(), o, strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.b.String(), "before initialize"); n != 2 || strings.Count(out.b.String(), `"error"`) != len(lines) {
		t.Fatalf("want every call refused, the two unknown eras as before initialize:\n%s", out.b.String())
	}
	recs, _, err := store.Open(home).Read(trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if typ, _ := r.Get("type"); typ != "mcp_tool_call" {
			t.Fatalf("a refused call ran: %v receipt in the trace", typ)
		}
	}
}
