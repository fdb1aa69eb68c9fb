package main

import (
	"bufio"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `assay mcp serve` is the same server as assay-mcp: it answers initialize
// and tools/list on its own stdio and exits 0 when stdin closes.
func TestMCPServe(t *testing.T) {
	t.Setenv("ASSAY_HOME", t.TempDir())
	root, _ := filepath.EvalSymlinks(t.TempDir())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"mcp", "serve", "--root", root, "--log-level", "warn"}, inR, outW, &stderr)
		outW.Close()
	}()
	out := bufio.NewReader(outR)
	send := func(s string) map[string]any {
		t.Helper()
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := out.ReadBytes('\n')
		if err != nil {
			t.Fatalf("read: %v (stderr %s)", err, stderr.String())
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || m["jsonrpc"] != "2.0" {
			t.Fatalf("stdout line is not JSON-RPC: %q", line)
		}
		return m
	}
	r := send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if r["result"].(map[string]any)["serverInfo"].(map[string]any)["name"] != "assay-mcp" {
		t.Fatalf("initialize: %v", r)
	}
	if _, err := io.WriteString(inW, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	r = send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if tools := r["result"].(map[string]any)["tools"].([]any); len(tools) < 5 {
		t.Fatalf("tools/list: %d tools", len(tools))
	}
	inW.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d (stderr %s)", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("assay mcp serve did not exit when stdin closed")
	}
}

func TestMCPServeBadFlag(t *testing.T) {
	t.Setenv("ASSAY_MCP_TOKEN", "")
	var stdout, stderr strings.Builder
	code := run([]string{"mcp", "serve", "--http", "0.0.0.0:0"}, strings.NewReader(""), &stdout, &stderr)
	if code != 3 || !strings.Contains(stderr.String(), "without a bearer token") || stdout.Len() != 0 {
		t.Fatalf("exit %d stderr %q stdout %q", code, stderr.String(), stdout.String())
	}
}
