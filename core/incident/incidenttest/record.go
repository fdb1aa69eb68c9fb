// Package incidenttest records real MCP proxy sessions for tests: the
// proxy (core/mcpproxy) in front of a server process the caller names,
// a scripted client, and the session packed by mcpproxy.Finish. Tests of
// replay (core/incident, the CLI) use it to get packs made by the
// project's own builders.
package incidenttest

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/jsonrpc"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/mcpproxy"
	"github.com/assay-dev/assay/core/store"
)

// Call is one scripted tools/call.
type Call struct {
	Tool string
	Args map[string]any
}

// Session is the traffic replay tests use every test replays: tool names in case variants
// and with a Cyrillic lookalike, a destructive call, a repeated tool.
var Session = []Call{
	{Tool: "get_weather", Args: map[string]any{"city": "Lisbon"}},
	{Tool: "Get_Weather", Args: map[string]any{"city": "Porto"}},
	{Tool: "gеt_weather", Args: map[string]any{"city": "Faro"}}, // Cyrillic е (U+0435)
	{Tool: "check_inventory", Args: map[string]any{"sku": "SKU-1042"}},
	{Tool: "calculate_risk", Args: map[string]any{"amount": 12500, "country": "PT"}},
	{Tool: "calculate_risk", Args: map[string]any{"amount": 99, "country": "ES"}},
	{Tool: "record_action", Args: map[string]any{"action": "DELETE customers"}},
	{Tool: "delete_records", Args: map[string]any{"table": "customers", "where": "1=1"}},
	{Tool: "DELETE_RECORDS", Args: map[string]any{"table": "orders"}},
}

// Options describe a session.
type Options struct {
	// ServerArgv starts the MCP server; ServerEnv is added to its
	// environment (e.g. the variable that makes a test binary serve).
	ServerArgv []string
	ServerEnv  []string
	Policy     *mcppolicy.Policy // nil: no policy
	StoreArgs  bool
	Calls      []Call
	// Raw lines are sent as they are, after initialize and before Calls;
	// each must draw exactly one answer (e.g. a malformed tools/call the
	// proxy refuses with a JSON-RPC error), which is read and dropped.
	Raw []string
}

// Policy writes text to a temp file and loads it.
func Policy(t testing.TB, text string) *mcppolicy.Policy {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := mcppolicy.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// Record runs one proxy session and returns its pack directory.
func Record(t testing.TB, o Options) string {
	t.Helper()
	work := t.TempDir()
	st := store.Open(filepath.Join(work, "home"))
	sid := mcpproxy.NewSessionID()
	traceID := mcpproxy.NewTraceID(sid, time.Now())
	env := append(append(os.Environ(), o.ServerEnv...), store.EnvHome+"="+st.Home, store.EnvTrace+"="+traceID)
	up, err := mcpproxy.StartStdio(mcpproxy.StdioOptions{Argv: o.ServerArgv, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	cr, cw := io.Pipe()
	pr, pw := io.Pipe()
	done := make(chan *mcpproxy.Session, 1)
	go func() {
		s, _ := mcpproxy.Run(context.Background(), mcpproxy.Options{
			Upstream: up, Client: cr, ClientOut: pw, Store: st, TraceID: traceID, SessionID: sid,
			ServerID: "replay-test", Policy: o.Policy, StoreArgs: o.StoreArgs, CallTimeout: 10 * time.Second,
		})
		pw.Close()
		done <- s
	}()
	rd := mcpproxy.NewReader(pr)
	send := func(v any) {
		b, _ := json.Marshal(v)
		if _, err := cw.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	request := func(id int, method string, params any) {
		send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		for {
			m, err := rd.Next()
			if err != nil {
				t.Fatalf("no answer to %s: %v", method, err)
			}
			msg, err := jsonrpc.Decode(m.Body)
			if err == nil && msg.IsResponse() && string(msg.ID) == strconv.Itoa(id) {
				return
			}
		}
	}
	request(0, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}})
	send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	for _, l := range o.Raw {
		if _, err := cw.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := rd.Next(); err != nil {
			t.Fatalf("no answer to %s: %v", l, err)
		}
	}
	for i, c := range o.Calls {
		request(i+1, "tools/call", map[string]any{"name": c.Tool, "arguments": c.Args})
	}
	cw.Close()
	go io.Copy(io.Discard, pr)
	var sess *mcpproxy.Session
	select {
	case sess = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the session did not end")
	}
	art, err := mcpproxy.Finish(st, sess, filepath.Join(work, "mcp"), demo.EphemeralSigner("replay-test"), "shadow")
	if err != nil || art.Pack == nil {
		t.Fatalf("finish: %v %+v", err, art)
	}
	return art.Pack.Dir
}
