package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/store"
)

// mcpInit is a client's handshake, newline-delimited.
const mcpInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
`

// A receipt store that cannot be written is refused before the server
// starts (exit 3, one line with the fix), even with --no-auto-pack, which
// used to run the whole session and lose every receipt.
func TestQAMCPProxyUnwritableHome(t *testing.T) {
	t.Parallel()
	_, dir := ckEnv(t)
	blocker := filepath.Join(dir, "a-file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ckSetenv(t, store.EnvHome, filepath.Join(blocker, "home"))
	marker := filepath.Join(dir, "server-started")
	for _, extra := range [][]string{nil, {"--no-auto-pack"}} {
		args := append(append([]string{"mcp-proxy"}, extra...), "--", "sh", "-c", "touch "+marker)
		ckOneLine(t, args, "not writable")
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%v: the server was started", args)
		}
	}
}

// --json: stderr is JSON only, the server's own stderr included (wrapped
// in JSON log lines), and stdout only protocol.
func TestQAMCPProxyJSONStderr(t *testing.T) {
	home, dir := ckProcessEnv(t)
	server := filepath.Join(dir, "server.sh")
	// A server that chats on stderr (as the reference servers do) and
	// leaves a last line without a newline.
	script := "#!/bin/sh\necho 'Starting server on stdio...' >&2\nprintf 'bye' >&2\nexec \"$ASSAY_QA_BIN\" mcp demo-server\n"
	if err := os.WriteFile(server, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "mcp-proxy", "--json", "--audit-dir", filepath.Join(dir, "audit"), "--", server)
	cmd.Env = append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home, "ASSAY_QA_BIN="+os.Args[0])
	cmd.Stdin = strings.NewReader(mcpInit + `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}` + "\n")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("exit %v; stderr %s", err, stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["jsonrpc"] != "2.0" {
			t.Errorf("stdout line is not JSON-RPC: %q", l)
		}
	}
	dec := json.NewDecoder(strings.NewReader(stderr.String()))
	var msgs []string
	var last map[string]any
	for {
		var v map[string]any
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("stderr is not only JSON: %v\n%s", err, stderr.String())
		}
		last = v
		if m, _ := v["message"].(string); m != "" {
			msgs = append(msgs, m)
		}
	}
	got := strings.Join(msgs, "|")
	if !strings.Contains(got, "Starting server on stdio...") || !strings.Contains(got, "bye") {
		t.Errorf("the server's stderr lines are not in the JSON logs: %q", got)
	}
	// The report is the last document (readers take the last one), after
	// the server's unterminated last line.
	if last["command"] != "mcp-proxy" {
		t.Errorf("the last JSON document on stderr is not the report: %v", last)
	}
}

// SIGINT and SIGTERM mid-call: the proxy ends within a few seconds, exits
// 1, and the pack is written (marked incomplete) and verifies.
func TestQAMCPProxySignalMidCall(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			home, dir := ckProcessEnv(t)
			audit := filepath.Join(dir, "audit")
			cmd := exec.Command(os.Args[0], "mcp-proxy", "--audit-dir", audit, "--", os.Args[0], "mcp", "demo-server", "--faults")
			cmd.Env = append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			cmd.Stderr = io.Discard
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			io.WriteString(in, mcpInit+`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":20000}}}`+"\n")
			buf := make([]byte, 4096)
			if _, err := out.Read(buf); err != nil { // the initialize answer: the session is up
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			_ = cmd.Process.Signal(sig)
			go io.Copy(io.Discard, out)
			err := cmd.Wait()
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the proxy took %s to end after %s", d, sig)
			}
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1", err)
			}
			packs, _ := filepath.Glob(filepath.Join(audit, "packs", "proof_pack_*"))
			if len(packs) != 1 {
				t.Fatalf("packs %v", packs)
			}
			// Intact evidence of a partial session: the pack's
			// mcp_session_complete claim fails, an honest failure.
			if code, out, errs := ckRun(t, "verify-pack", packs[0]); code != 1 || !strings.Contains(out, "HONEST FAIL") {
				t.Fatalf("verify-pack exit %d, want 1: %s %s", code, out, errs)
			}
			b, _ := os.ReadFile(filepath.Join(packs[0], "receipt_pack.jsonl"))
			if !strings.Contains(string(b), `"session_complete":false`) || !strings.Contains(string(b), `"tool_name":"slow"`) {
				t.Errorf("the pack lacks the incomplete session or the slow call: %s", b)
			}
		})
	}
}

// try-mcp --json: duration_ms is a JSON number, as in the receipts (it
// was a string).
func TestQATryMCPJSONDurations(t *testing.T) {
	ckProcessEnv(t)
	ckSetenv(t, envAsCLI, "1") // the demo server is this binary acting as assay
	code, stdout, stderr := ckRun(t, "try-mcp", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Result struct {
			Calls []map[string]any `json:"calls"`
		} `json:"result"`
	}
	ckJSON(t, stdout, &doc)
	if len(doc.Result.Calls) == 0 {
		t.Fatalf("no calls: %s", stdout)
	}
	for _, c := range doc.Result.Calls {
		if _, ok := c["duration_ms"].(float64); !ok {
			t.Errorf("%v: duration_ms %#v is not a number", c["tool"], c["duration_ms"])
		}
	}
}
