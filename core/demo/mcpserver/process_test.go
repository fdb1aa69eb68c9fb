package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/store"
)

// These tests run the server as a real process (this test binary,
// re-executed with envChild set), speaking raw newline-delimited JSON-RPC,
// because what they check is process-level: exit codes, bytes on stdout,
// and staying alive after stdin closes.

const envChild = "ASSAY_MCPSERVER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		zl := zerolog.New(os.Stderr).Level(zerolog.DebugLevel)
		if err := Serve(context.Background(), os.Stdin, os.Stdout, Options{Faults: true, Logger: &zl}); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr chan string // stderr, line by line
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{envChild + "=1"}, env...)...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1000), stderr: make(chan string, 1000), exited: make(chan struct{})}
	var pipes sync.WaitGroup
	pump := func(r io.Reader, ch chan string) {
		defer pipes.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}
	pipes.Add(2)
	go pump(stdout, c.lines)
	go pump(stderr, c.stderr)
	go func() {
		pipes.Wait() // Wait must not run before the pipes are drained
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	return c
}

func (c *child) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("write to the server: %v", err)
	}
}

// next returns the next stdout line, or ok=false at EOF or after 3 s.
func (c *child) next() (string, bool) {
	select {
	case l, ok := <-c.lines:
		return l, ok
	case <-time.After(3 * time.Second):
		c.t.Fatal("no line from the server within 3 s")
		return "", false
	}
}

type rpc struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

// parse reports whether line is a JSON-RPC 2.0 message.
func parse(line string) (rpc, bool) {
	var m rpc
	err := json.Unmarshal([]byte(line), &m)
	return m, err == nil && m.JSONRPC == "2.0"
}

// until reads stdout up to the response with the given id and returns it,
// plus every line that was not JSON-RPC on the way.
func (c *child) until(id int) (rpc, []string) {
	c.t.Helper()
	var junk []string
	for {
		l, ok := c.next()
		if !ok {
			c.t.Fatalf("stdout ended before the response to id %d (junk so far %q)", id, junk)
		}
		m, isRPC := parse(l)
		if !isRPC {
			junk = append(junk, l)
			continue
		}
		if string(m.ID) == fmt.Sprint(id) {
			return m, junk
		}
	}
}

func (c *child) initialize() {
	c.t.Helper()
	c.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"process-test","version":"0"}}}`)
	if m, junk := c.until(1); m.Result == nil || len(junk) > 0 {
		c.t.Fatalf("initialize: %+v, junk %q", m, junk)
	}
	c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func callLine(id int, tool string, args any) string {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": map[string]any{"name": tool, "arguments": args}})
	return string(b)
}

func (c *child) waitExit(d time.Duration) int {
	c.t.Helper()
	select {
	case <-c.exited:
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		c.t.Fatalf("the server is still running %v later", d)
		return -1
	}
}

func TestProcessCrashExitsMidCall(t *testing.T) {
	t.Parallel()
	c := startChild(t)
	c.initialize()
	c.send(callLine(2, "crash", map[string]any{"code": 7}))
	for {
		l, ok := c.next()
		if !ok {
			break
		}
		if m, _ := parse(l); string(m.ID) == "2" {
			t.Fatalf("crash answered: %s", l)
		}
	}
	if code := c.waitExit(3 * time.Second); code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
}

func TestProcessGarbageLine(t *testing.T) {
	t.Parallel()
	c := startChild(t)
	c.initialize()
	const junk = "this is not JSON {"
	c.send(callLine(2, "garbage", map[string]any{"text": junk}))
	m, got := c.until(2)
	if m.Result == nil || strings.Contains(string(m.Result), `"isError":true`) {
		t.Fatalf("garbage response: %s %s", m.Result, m.Error)
	}
	if len(got) != 1 || got[0] != junk {
		t.Fatalf("non-JSON lines before the response = %q, want exactly [%q]", got, junk)
	}
	c.send(callLine(3, "echo", map[string]any{"after": true}))
	if m, more := c.until(3); m.Result == nil || len(more) != 0 {
		t.Fatalf("after garbage: %+v, junk %q", m, more)
	}
	_ = c.stdin.Close()
	for l := range c.lines {
		t.Errorf("unexpected line after the last response: %q", l)
	}
	if code := c.waitExit(3 * time.Second); code != 0 {
		t.Errorf("exit code %d after stdin EOF, want 0", code)
	}
}

// Garbage lines and large responses written concurrently never share a
// line: every line is either a whole JSON-RPC message or a garbage line.
func TestProcessGarbageDoesNotInterleave(t *testing.T) {
	t.Parallel()
	c := startChild(t)
	c.initialize()
	const n = 20
	big := strings.Repeat("x", 64<<10)
	junk := strings.Repeat("#", 16<<10)
	for i := 0; i < n; i++ {
		c.send(callLine(100+i, "echo", map[string]any{"big": big}))
		c.send(callLine(200+i, "garbage", map[string]any{"text": junk}))
	}
	_ = c.stdin.Close()
	responses, garbage := 0, 0
	for {
		l, ok := c.next()
		if !ok {
			break
		}
		if l == junk {
			garbage++
			continue
		}
		if _, isRPC := parse(l); !isRPC {
			t.Fatalf("a line is neither JSON-RPC nor a garbage line (%d bytes): %.80q...", len(l), l)
		}
		responses++
	}
	if responses != 2*n || garbage != n {
		t.Errorf("%d responses and %d garbage lines, want %d and %d", responses, garbage, 2*n, n)
	}
	if code := c.waitExit(3 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestProcessHangSurvivesEOF(t *testing.T) {
	t.Parallel()
	c := startChild(t)
	c.initialize()
	c.send(callLine(2, "hang", map[string]any{}))
	// The handler logs the call on stderr as it starts: then it is in flight.
	deadline := time.After(3 * time.Second)
	for inFlight := false; !inFlight; {
		select {
		case l := <-c.stderr:
			inFlight = strings.Contains(l, `"tool":"hang"`)
		case <-deadline:
			t.Fatal("the hang call never started")
		}
	}
	_ = c.stdin.Close()
	select {
	case <-c.exited:
		t.Fatalf("the server exited (%v) on stdin EOF while hang was in flight", c.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.waitExit(3 * time.Second)
}

func TestProcessRecordAction(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	const trace = "mcp_mcp_0123456789abcdef_1764112345"
	c := startChild(t, store.EnvHome+"="+home, store.EnvTrace+"="+trace)
	c.initialize()
	c.send(callLine(2, "record_action", map[string]any{"action": "sent_invoice"}))
	m, junk := c.until(2)
	var res struct {
		IsError           bool              `json:"isError"`
		StructuredContent map[string]string `json:"structuredContent"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil || res.IsError || len(junk) != 0 {
		t.Fatalf("record_action: %s (%v), junk %q", m.Result, err, junk)
	}
	_ = c.stdin.Close()
	if code := c.waitExit(3 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	rs, problems, err := store.Open(home).Read(trace)
	if err != nil || len(problems) != 0 || len(rs) != 1 {
		t.Fatalf("trace %s: %d receipts, problems %v, err %v", trace, len(rs), problems, err)
	}
	r := rs[0]
	want := map[string]string{
		"type": "capability_use", "action": "sent_invoice", "tool": "record_action",
		"integration_source": IntegrationSource, "_trace_id": trace,
		"receipt_id": res.StructuredContent["receipt_id"],
	}
	for k, v := range want {
		if got := r.String(k); got != v || v == "" {
			t.Errorf("receipt %s = %q, want %q", k, got, v)
		}
	}
}
