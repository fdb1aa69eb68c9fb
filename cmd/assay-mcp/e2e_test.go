package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/tools"
)

// buildBinaries builds assay-mcp and assay once per test binary.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func binaries(tb testing.TB) (mcpBin, assayBin string) {
	tb.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "assay-mcp-e2e")
		if buildErr != nil {
			return
		}
		for _, p := range []string{".", "../assay"} {
			out, err := exec.Command("go", "build", "-o", binDir+"/", p).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", p, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return filepath.Join(binDir, "assay-mcp"), filepath.Join(binDir, "assay")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// stdioSession is a raw JSON-RPC session with the built binary: every
// stdout line is checked to be one JSON-RPC message.
type stdioSession struct {
	tb     testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *syncBuffer // written by the copy goroutine os/exec starts, read by the test
	nextID int
	lines  int
}

func startStdio(tb testing.TB, bin, home, root string, args ...string) *stdioSession {
	tb.Helper()
	return startStdioEnv(tb, nil, bin, home, root, args...)
}

// startStdioEnv is startStdio with env added to the server's environment.
func startStdioEnv(tb testing.TB, env []string, bin, home, root string, args ...string) *stdioSession {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"--root", root}, args...)...)
	cmd.Env = append(append(os.Environ(), "ASSAY_HOME="+home, "ASSAY_TRACE_ID="), env...)
	cmd.Dir = root
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	s := &stdioSession{tb: tb, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), stderr: &syncBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return s
}

type rpcMsg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

func (s *stdioSession) notify(method string) {
	s.tb.Helper()
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method})
	if _, err := s.in.Write(append(b, '\n')); err != nil {
		s.tb.Fatal(err)
	}
}

// request sends one request and returns its result, checking every stdout
// line on the way (notifications may come first).
func (s *stdioSession) request(method string, params any) json.RawMessage {
	s.tb.Helper()
	s.nextID++
	id := s.nextID
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if _, err := s.in.Write(append(b, '\n')); err != nil {
		s.tb.Fatalf("write: %v (stderr: %s)", err, s.stderr)
	}
	for {
		line, err := s.out.ReadBytes('\n')
		if err != nil {
			s.tb.Fatalf("read %s response: %v (stderr: %s)", method, err, s.stderr)
		}
		s.lines++
		var m rpcMsg
		if err := json.Unmarshal(line, &m); err != nil || m.JSONRPC != "2.0" || (m.Method == "" && m.ID == nil) {
			s.tb.Fatalf("stdout line is not a JSON-RPC message: %q", line)
		}
		if string(m.ID) != fmt.Sprint(id) || m.Method != "" {
			continue // a notification or a server-initiated request
		}
		if m.Error != nil {
			s.tb.Fatalf("%s: JSON-RPC error %s", method, m.Error)
		}
		return m.Result
	}
}

type toolResult struct {
	Content           []map[string]any `json:"content"`
	StructuredContent map[string]any   `json:"structuredContent"`
	IsError           bool             `json:"isError"`
}

func (s *stdioSession) call(name string, args map[string]any) toolResult {
	s.tb.Helper()
	raw := s.request("tools/call", map[string]any{"name": name, "arguments": args})
	var r toolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		s.tb.Fatal(err)
	}
	return r
}

func (s *stdioSession) initialize() {
	s.tb.Helper()
	s.request("initialize", map[string]any{
		"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "e2e", "version": "1"},
	})
	s.notify("notifications/initialized")
}

// e2eArgs gives every tool one successful call (in this order), given a
// pack directory that exists before the session starts.
func e2eArgs(prePack string) map[string]map[string]any {
	return map[string]map[string]any{
		"scan":         {"min_confidence": "medium"},
		"emit-receipt": {"type": "decision_v1", "data": map[string]any{"choice": "ship", "confidence": 0.9}},
		"verify-pack":  {"path": prePack},
		"explain-pack": {"path": prePack},
		"diff-packs":   {"a": prePack, "b": prePack},
		"run-flow":     {"flow": "try"},
		"bundle":       {"out": "session_pack_mid"},
		"policy-check": {"tool": "delete_records"}, // against root/assay.mcp-policy.yaml
	}
}

// The built binary over stdio: initialize, tools/list, every tool, then a
// final bundle; stdout carries only JSON-RPC; the pack verifies with
// `assay verify-pack` (exit 0) and holds one mcp_tool_call per call plus
// the emitted receipts.
func TestStdioBinaryEndToEnd(t *testing.T) {
	t.Parallel()
	mcpBin, assayBin := binaries(t)
	home := t.TempDir()
	root, _ := filepath.EvalSymlinks(t.TempDir())

	// A pack that exists before the session, for the read-only tools.
	pre := startStdio(t, mcpBin, home, root)
	pre.initialize()
	if r := pre.call("emit-receipt", map[string]any{"type": "decision_v1"}); r.IsError {
		t.Fatalf("pre emit: %v", r.Content)
	}
	if r := pre.call("bundle", map[string]any{"out": "pre_pack"}); r.IsError {
		t.Fatalf("pre bundle: %v", r.Content)
	}

	s := startStdio(t, mcpBin, home, root)
	s.initialize()
	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(s.request("tools/list", map[string]any{}), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != len(tools.Registry()) {
		t.Fatalf("tools/list has %d tools, want %d", len(list.Tools), len(tools.Registry()))
	}
	if err := os.WriteFile(filepath.Join(root, "assay.mcp-policy.yaml"), []byte("mode: enforce\ntools:\n  deny: [\"delete_*\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := e2eArgs("pre_pack")
	calls, emitted := 0, 0
	// Registry order: emit-receipt comes before bundle.
	for _, tl := range tools.Registry() {
		a, ok := args[tl.Name]
		if !ok {
			t.Fatalf("no end-to-end arguments for tool %s; add them to e2eArgs", tl.Name)
		}
		r := s.call(tl.Name, a)
		calls++
		if r.IsError {
			t.Fatalf("%s: isError %v", tl.Name, r.Content)
		}
		if tl.Name == "emit-receipt" {
			emitted++
		}
	}
	// One failing call is recorded too.
	if r := s.call("verify-pack", map[string]any{"path": "/"}); !r.IsError {
		t.Fatal("path outside the roots did not fail")
	}
	calls++
	final := s.call("bundle", map[string]any{"out": "session_pack"})
	if final.IsError {
		t.Fatalf("bundle: %v", final.Content)
	}
	built, _ := final.StructuredContent["pack"].(map[string]any)
	dir, _ := built["output_dir"].(string)
	if dir != filepath.Join(root, "session_pack") {
		t.Fatalf("bundle path %q", dir)
	}

	// Independent check with the CLI.
	out, err := exec.Command(assayBin, "verify-pack", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("assay verify-pack %s: %v\n%s", dir, err, out)
	}
	counts := map[string]int{}
	f, err := os.ReadFile(filepath.Join(dir, pack.FileReceipts))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(f)), "\n") {
		v, err := canon.Decode([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		counts[v.(*canon.Object).String("type")]++
	}
	if counts["mcp_tool_call"] != calls || counts["decision_v1"] != emitted || len(counts) != 2 {
		t.Fatalf("pack receipt types %v, want %d mcp_tool_call and %d decision_v1", counts, calls, emitted)
	}
	if !strings.Contains(s.stderr.String(), `"message":"tool call"`) {
		t.Fatalf("no log lines on stderr: %s", s.stderr)
	}
}

// run-flow apply runs the steps only when the server allows exec.
func TestStdioRunFlowApply(t *testing.T) {
	t.Parallel()
	mcpBin, assayBin := binaries(t)
	home := t.TempDir()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	withBin := []string{"ASSAY_BIN=" + assayBin}

	s := startStdioEnv(t, withBin, mcpBin, home, root)
	s.initialize()
	if r := s.call("run-flow", map[string]any{"flow": "try", "apply": true}); !r.IsError {
		t.Fatal("apply without --allow-exec ran")
	}
	if _, err := os.Stat(filepath.Join(root, "challenge_pack")); err == nil {
		t.Fatal("a refused apply left files behind")
	}

	x := startStdioEnv(t, withBin, mcpBin, home, root, "--allow-exec")
	x.initialize()
	r := x.call("run-flow", map[string]any{"flow": "try", "apply": true})
	if r.IsError || r.StructuredContent["status"] != "ok" || r.StructuredContent["applied"] != true {
		t.Fatalf("apply: %+v", r)
	}
	steps, _ := r.StructuredContent["steps"].([]any)
	if len(steps) != 4 {
		t.Fatalf("steps %v", steps)
	}
	for _, st := range steps {
		if m := st.(map[string]any); m["status"] != "ok" {
			t.Fatalf("step %v", m)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "challenge_pack", "good", pack.FileManifest)); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer goroutine and a reader:
// a child's stderr is copied into it while the test reads what came so far.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
