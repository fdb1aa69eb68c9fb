package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/store"
)

// envMCPDemoChild makes the test binary act as `assay mcp demo-server`
// with the arguments in ASSAY_TEST_MCP_DEMO_ARGS (space separated).
const envMCPDemoChild = "ASSAY_TEST_MCP_DEMO"

// TestHelperMCPDemoServer is not a test: run as a child with
// ASSAY_TEST_MCP_DEMO=1 it is the assay CLI serving the demo server.
func TestHelperMCPDemoServer(t *testing.T) {
	if os.Getenv(envMCPDemoChild) != "1" {
		return
	}
	args := append([]string{"mcp", "demo-server"}, strings.Fields(os.Getenv("ASSAY_TEST_MCP_DEMO_ARGS"))...)
	os.Exit(run(args, os.Stdin, os.Stdout, os.Stderr))
}

func mdsChild(t *testing.T, args string) (string, []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe, []string{envMCPDemoChild + "=1", "ASSAY_TEST_MCP_DEMO_ARGS=" + args, store.EnvHome + "=" + t.TempDir(), store.EnvTrace + "="}
}

const mdsInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}` + "\n" +
	`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"

// toolNames reads the tools/list response with id 2 from stdout lines.
func mdsToolNames(t *testing.T, lines []string) []string {
	t.Helper()
	for _, l := range lines {
		var m struct {
			ID     int `json:"id"`
			Result struct {
				Tools []struct{ Name string } `json:"tools"`
			} `json:"result"`
		}
		if json.Unmarshal([]byte(l), &m) == nil && m.ID == 2 {
			var names []string
			for _, tl := range m.Result.Tools {
				names = append(names, tl.Name)
			}
			sort.Strings(names)
			return names
		}
	}
	t.Fatalf("no tools/list response in %q", lines)
	return nil
}

// The command serves until stdin closes, answers everything it read,
// writes nothing but JSON-RPC to stdout and exits 0; --faults adds the
// fault tools.
func TestMCPDemoServerCommand(t *testing.T) {
	cases := []struct {
		args string
		want string
	}{
		{"", "calculate_risk check_inventory delete_records get_weather record_action"},
		{"--faults", "calculate_risk check_inventory crash delete_records echo fail garbage get_weather hang record_action slow"},
	}
	for _, c := range cases {
		t.Run("args="+c.args, func(t *testing.T) {
			exe, env := mdsChild(t, c.args)
			cmd := exec.Command(exe, "-test.run=^TestHelperMCPDemoServer$")
			cmd.Env = append(os.Environ(), env...)
			cmd.Stdin = strings.NewReader(mdsInit +
				`{"jsonrpc":"2.0","id":2,"method":"tools/list"}` + "\n" +
				`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}` + "\n")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v; stderr %s", err, stderr.String())
				}
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the server did not exit after stdin closed")
			}
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("stdout has %d lines, want 3 responses: %q", len(lines), stdout.String())
			}
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["jsonrpc"] != "2.0" {
					t.Errorf("stdout line is not JSON-RPC: %q", l)
				}
			}
			if got := strings.Join(mdsToolNames(t, lines), " "); got != c.want {
				t.Errorf("tools = %s, want %s", got, c.want)
			}
			// Requests are served concurrently: find the answer by id.
			var weather string
			for _, l := range lines {
				var m struct{ ID int }
				if json.Unmarshal([]byte(l), &m) == nil && m.ID == 3 {
					weather = l
				}
			}
			if !strings.Contains(weather, `Weather in Oslo`) {
				t.Errorf("no get_weather answer with id 3 in %q", lines)
			}
		})
	}
}

// mcp-go's own stdio client, spawning the command the way try-mcp and the
// proxy do.
func TestMCPDemoServerWithStdioClient(t *testing.T) {
	exe, env := mdsChild(t, "")
	c, err := client.NewStdioMCPClient(exe, env, "-test.run=^TestHelperMCPDemoServer$")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "t", Version: "0"}
	info, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if info.ServerInfo.Name != "assay-demo-mcp-server" {
		t.Errorf("server name %q", info.ServerInfo.Name)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "delete_records"
	req.Params.Arguments = map[string]any{"table": "customers", "where": "1=1"}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := res.Content[0].(mcp.TextContent)
	if res.IsError || !ok || !strings.Contains(tc.Text, "nothing was deleted") {
		t.Errorf("delete_records: %+v", res)
	}
}

func TestMCPDemoServerHidden(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	code, out, _ := ckRun(t, "mcp", "--help")
	if code != 0 || strings.Contains(out, "demo-server") || !strings.Contains(out, "serve") {
		t.Errorf("mcp --help: exit %d, demo-server listed or serve missing:\n%s", code, out)
	}
	code, out, _ = ckRun(t, "mcp", "demo-server", "--help")
	if code != 0 || !strings.Contains(out, "--faults") {
		t.Errorf("mcp demo-server --help: exit %d:\n%s", code, out)
	}
	ckOneLine(t, []string{"mcp", "demo-server", "extra"}, "unknown command")
}

// SIGTERM (which the proxy forwards) ends the server with exit 0, even
// with a hang call in flight.
func TestMCPDemoServerSIGTERM(t *testing.T) {
	exe, env := mdsChild(t, "--faults --log-level debug")
	cmd := exec.Command(exe, "-test.run=^TestHelperMCPDemoServer$")
	cmd.Env = append(os.Environ(), env...)
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	_, _ = io.WriteString(stdin, mdsInit+`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hang","arguments":{}}}`+"\n")
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "tool=hang") {
				close(started)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the hang call never started")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the server ignored SIGTERM")
	}
}
