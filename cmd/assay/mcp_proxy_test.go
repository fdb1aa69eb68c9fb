package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/schemas/schematest"
	"github.com/assay-dev/assay/tools"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/mcpproxy"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// envAsCLI makes this test binary act as the assay CLI when it is started
// as a child (the proxy's server, try-mcp's demo server): real processes
// without a separate go build.
const envAsCLI = "ASSAY_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envAsCLI) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	code := m.Run()
	if assayBinDir != "" {
		os.RemoveAll(assayBinDir) // assayBinary's build, about 100 MB
	}
	os.Exit(code)
}

// A real MCP client (mcp-go, spawning the proxy process) and our own MCP
// server (assay mcp serve) behind it: the calls work through the proxy, the
// proxy's receipts and the server's own land in one trace, and the session
// leaves a session file and a pack that verifies.
func TestMCPProxyInFrontOfAssayMCP(t *testing.T) {
	home, dir := ckProcessEnv(t)
	if _, err := demo.BuildChallenge(filepath.Join(dir, "challenge")); err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(dir, "audit")
	env := append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
	cli, ctx := proxyClient(t, env, "mcp-proxy", "--audit-dir", audit, "--server-id", "assay-mcp", "--", os.Args[0], "mcp", "serve", "--root", dir)
	tl, err := cli.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tl.Tools) == 0 {
		t.Fatalf("tools/list: %v", err)
	}
	for _, p := range []string{"challenge/good", "challenge/tampered"} {
		req := mcp.CallToolRequest{}
		req.Params.Name = "verify-pack"
		req.Params.Arguments = map[string]any{"path": filepath.Join(dir, p)}
		res, err := cli.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("verify-pack %s: %v", p, err)
		}
		b, _ := json.Marshal(res.StructuredContent)
		want := map[string]string{"challenge/good": `"PASS"`, "challenge/tampered": `"TAMPERED"`}[p]
		if !strings.Contains(string(b), want) {
			t.Fatalf("verify-pack %s through the proxy: %s", p, b)
		}
	}
	if err := cli.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	packs, _ := filepath.Glob(filepath.Join(audit, "packs", "proof_pack_*"))
	sessions, _ := filepath.Glob(filepath.Join(audit, "receipts", "session_*.jsonl"))
	if len(packs) != 1 || len(sessions) != 1 {
		t.Fatalf("packs %v sessions %v", packs, sessions)
	}
	res, err := verify.Verify(packs[0], verify.Options{})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("pack verifies with %v %v", res, err)
	}
	lines, _ := os.ReadFile(filepath.Join(packs[0], "receipt_pack.jsonl"))
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		count[r["type"].(string)+"/"+strAny(r["integration_source"])]++
		if r["type"] == "session_metadata" && r["session_state"] == "closed" && r["session_complete"] != true {
			t.Errorf("session incomplete: %v", r["incomplete_reasons"])
		}
	}
	want := map[string]int{"mcp_tool_call/assay.mcp_proxy": 2, "mcp_tool_call/assay.mcp_server": 2, "session_metadata/assay.mcp_proxy": 2} // opening and closing
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d receipts, want %d (all: %v)", k, count[k], n, count)
		}
	}
}

// proxyClient starts this binary as `assay ARGS...` under mcp-go's stdio
// client (a real client spawning the proxy) and initialises the session.
func proxyClient(t *testing.T, env []string, args ...string) (*client.Client, context.Context) {
	t.Helper()
	cli, err := client.NewStdioMCPClient(os.Args[0], env, args...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: t.Name(), Version: "1"}
	if _, err := cli.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return cli, ctx
}

func strAny(v any) string { s, _ := v.(string); return s }

// Bad input is refused with exit 3 before any server starts.
func TestMCPProxyBadInput(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	marker := filepath.Join(dir, "server-started")
	server := []string{"--", "sh", "-c", "touch " + marker}
	badPolicy := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badPolicy, []byte("mode: enforce\ntools:\n  denny: [x]\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no server", []string{"mcp-proxy"}, "no MCP server"},
		{"both", append([]string{"mcp-proxy", "--upstream-url", "http://127.0.0.1:1/mcp"}, server...), "not both"},
		{"bad policy", append([]string{"mcp-proxy", "--policy", badPolicy}, server...), "denny"},
		{"missing policy", append([]string{"mcp-proxy", "--policy", filepath.Join(dir, "nope.yaml")}, server...), "nope.yaml"},
		{"negative timeout", append([]string{"mcp-proxy", "--call-timeout", "-1s"}, server...), "negative"},
		{"bad header", []string{"mcp-proxy", "--upstream-url", "http://127.0.0.1:1/mcp", "--upstream-header", "Authorization Bearer sk-secret"}, "not a header"},
		{"bad url", []string{"mcp-proxy", "--upstream-url", "ftp://x/mcp"}, "ftp"},
		{"not found", []string{"mcp-proxy", "--", "no-such-mcp-server-xyz"}, "no-such-mcp-server-xyz"},
		{"before dash", []string{"mcp-proxy", "python", "--", "x"}, "before --"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ckOneLine(t, tc.args, tc.want)
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the server was started despite bad input")
			}
		})
	}
	// No secret in the error.
	_, _, stderr := ckRun(t, "mcp-proxy", "--upstream-url", "http://127.0.0.1:1/mcp", "--upstream-header", "Authorization Bearer sk-secret")
	if strings.Contains(stderr, "sk-secret") {
		t.Errorf("the header value leaked: %s", stderr)
	}
	// --json: the error document goes to stderr; stdout is the protocol's.
	code, stdout, stderr := ckRun(t, "mcp-proxy", "--json")
	if code != 3 || stdout != "" || !json.Valid([]byte(stderr)) {
		t.Errorf("--json bad input: code %d stdout %q stderr %q", code, stdout, stderr)
	}
}

// The whole CLI session with a crashing server: exit 1, a pack that
// verifies, marked incomplete; the JSON report on stderr.
func TestMCPProxyCLIIncompleteSession(t *testing.T) {
	home, dir := ckProcessEnv(t)
	audit := filepath.Join(dir, "audit")
	cmd := exec.Command(os.Args[0], "mcp-proxy", "--json", "--audit-dir", audit, "--", os.Args[0], "mcp", "demo-server", "--faults")
	cmd.Env = append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}
{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"crash","arguments":{"code":4}}}
`)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1; stderr %s", err, stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["jsonrpc"] != "2.0" {
			t.Fatalf("stdout line is not JSON-RPC: %q", l)
		}
	}
	if !strings.Contains(stdout.String(), `"id":3`) || !strings.Contains(stdout.String(), "-32003") {
		t.Errorf("the crashed call got no error: %s", stdout.String())
	}
	// stderr is JSON only (log lines, then the report): the last document
	// is the report.
	errOut := stderr.String()
	var last json.RawMessage
	dec := json.NewDecoder(strings.NewReader(errOut))
	for {
		var doc json.RawMessage
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("--json stderr is not only JSON: %v\n%s", err, errOut)
		}
		last = doc
	}
	var rep struct {
		Status    string `json:"status"`
		ExitCode  int    `json:"exit_code"`
		Artifacts struct {
			Pack struct {
				Dir string `json:"output_dir"`
			} `json:"pack"`
		} `json:"artifacts"`
	}
	schema, _ := mcpproxy.ReportSchema()
	if err := schematest.Valid(schematest.Compile(t, schema), last); err != nil {
		t.Errorf("the report does not match %s: %v", mcpproxy.ReportSchemaPath, err)
	}
	if err := json.Unmarshal(last, &rep); err != nil || rep.Status != "incomplete" || rep.ExitCode != 1 {
		t.Fatalf("report: %v %+v\n%s", err, rep, errOut)
	}
	packs, _ := filepath.Glob(filepath.Join(audit, "packs", "proof_pack_*"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	// Intact, and its mcp_session_complete claim fails: an honest
	// failure, never a plain PASS of a partial session.
	res, err := verify.Verify(packs[0], verify.Options{})
	if err != nil || res.ExitCode != 1 || res.Integrity != verify.VerdictPass || res.ClaimVerdict != "HONEST_FAIL" {
		t.Fatalf("verify: %v %v", res, err)
	}
}

// try-mcp runs the synthetic server behind the proxy offline: five calls,
// the destructive one denied, the server's own receipt in the trace, a
// pack that verifies; -o keeps it.
func TestTryMCP(t *testing.T) {
	_, dir := ckProcessEnv(t)
	ckSetenv(t, envAsCLI, "1") // the demo server is this binary acting as assay
	code, stdout, stderr := ckRun(t, "try-mcp", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		OK     bool `json:"ok"`
		Result struct {
			Calls []struct {
				Tool, Outcome string
			} `json:"calls"`
			ServerReceipts int `json:"server_receipts"`
			PackReceipts   int `json:"pack_receipts"`
		} `json:"result"`
	}
	ckJSON(t, stdout, &doc)
	if !doc.OK || len(doc.Result.Calls) != 5 || doc.Result.ServerReceipts != 1 || doc.Result.PackReceipts != 8 {
		t.Fatalf("try-mcp: %+v", doc)
	}
	for _, c := range doc.Result.Calls {
		want := "forwarded"
		if c.Tool == "delete_records" {
			want = "denied"
		}
		if c.Outcome != want {
			t.Errorf("%s: %s, want %s", c.Tool, c.Outcome, want)
		}
	}
	keep := filepath.Join(dir, "kept")
	if code, _, stderr := ckRun(t, "try-mcp", "-o", keep); code != 0 {
		t.Fatalf("try-mcp -o: %d %s", code, stderr)
	}
	if res, err := verify.Verify(filepath.Join(keep, "proof_pack"), verify.Options{}); err != nil || res.ExitCode != 0 {
		t.Fatalf("kept pack: %v %v", res, err)
	}
	ckOneLine(t, []string{"try-mcp", "-o", keep}, "already exists")
}

// --upstream-url: a stdio client (mcp-go, spawning the proxy) reaches our
// own server over streamable HTTP through the proxy, with a bearer token
// that never lands in a receipt, a pack, the session file or a log line.
func TestMCPProxyUpstreamHTTP(t *testing.T) {
	home, dir := ckProcessEnv(t)
	if _, err := demo.BuildChallenge(filepath.Join(dir, "challenge")); err != nil {
		t.Fatal(err)
	}
	const token = "tok-proxy-e2e-s3cret"
	srv, err := tools.New(tools.Config{Roots: []string{dir}, Home: t.TempDir(), Transport: tools.TransportHTTP, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPHandler(tools.HTTPOptions{Token: token}))
	defer ts.Close()
	audit := filepath.Join(dir, "audit")
	env := append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
	cli, ctx := proxyClient(t, env, "--log-level", "debug", "mcp-proxy", "--audit-dir", audit, "--upstream-url", ts.URL+tools.EndpointPath, "--upstream-header", "Authorization: Bearer "+token)
	req := mcp.CallToolRequest{}
	req.Params.Name = "verify-pack"
	req.Params.Arguments = map[string]any{"path": filepath.Join(dir, "challenge", "good")}
	res, err := cli.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(res.StructuredContent); !strings.Contains(string(b), `"PASS"`) {
		t.Fatalf("verify-pack over HTTP through the proxy: %s", b)
	}
	cli.Close()
	packs, _ := filepath.Glob(filepath.Join(audit, "packs", "proof_pack_*"))
	if len(packs) != 1 {
		t.Fatalf("packs %v", packs)
	}
	if r, err := verify.Verify(packs[0], verify.Options{}); err != nil || r.ExitCode != 0 {
		t.Fatalf("verify: %v %v", r, err)
	}
	body, _ := os.ReadFile(filepath.Join(packs[0], "receipt_pack.jsonl"))
	if !strings.Contains(string(body), `"server_transport":"streamable-http"`) || !strings.Contains(string(body), `"tool_name":"verify-pack"`) {
		t.Errorf("pack receipts: %s", body)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), token) {
				t.Errorf("the token is in %s", p)
			}
		}
		return nil
	})
}
