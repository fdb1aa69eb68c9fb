package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture/mockllm"
)

// syncBuf is a bytes.Buffer safe to read while a command writes to it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitFor polls buf until it contains want (or fails after 10 s).
func waitFor(t *testing.T, buf *syncBuf, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := buf.String(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %q; have %q", want, buf.String())
	return ""
}

// interruptSelf sends SIGINT to this process; the command under test has
// registered for it, so it only stops that command.
func interruptSelf(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
}

func TestMockLLMCommand(t *testing.T) {
	var out, errb syncBuf
	done := make(chan int)
	go func() { done <- run([]string{"mock-llm", "--addr", "127.0.0.1:0"}, strings.NewReader(""), &out, &errb) }()
	s := waitFor(t, &out, "GEMINI_API_KEY")
	url := strings.SplitN(s, "\n", 2)[0]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(s, "export OPENAI_BASE_URL="+url+"/v1\n") {
		t.Fatalf("stdout: %q", s)
	}
	askHi(t, url+"/v1/chat/completions", "m", "x")
	stopOnSIGINT(t, "mock-llm", done, &errb)
}

func TestMockLLMBadAddr(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"mock-llm", "--addr", "256.1.1.1:99999"}, strings.NewReader(""), &out, &errb)
	if code != 3 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "--addr") {
		t.Fatalf("code %d stdout %q stderr %q", code, out.String(), errb.String())
	}
}

func TestGatewayCommand(t *testing.T) {
	home := t.TempDir()
	t.Setenv("ASSAY_HOME", home)
	mock := startMockForGateway(t)
	var out, errb syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"gateway", "--upstream-openai", mock + "/v1", "--trace", "trace_20260101T000000_00000001"}, strings.NewReader(""), &out, &errb)
	}()
	s := waitFor(t, &out, "ASSAY_TRACE_ID=")
	var base string
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, "export OPENAI_BASE_URL="); ok {
			base = v
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/openai") || !strings.Contains(s, "export ASSAY_TRACE_ID=trace_20260101T000000_00000001\n") ||
		!strings.Contains(s, "export ASSAY_GATEWAY="+strings.TrimSuffix(base, "/openai")+"\n") {
		t.Fatalf("stdout %q", s)
	}
	askHi(t, base+"/chat/completions", "gpt-cli", "sk-cli-SECRET-000000000000")
	stopOnSIGINT(t, "gateway", done, &errb)
	if e := errb.String(); !strings.Contains(e, "1 requests, 1 model calls, 1 receipts written, 0 lost") || !strings.Contains(e, "Next: assay proof-pack trace_20260101T000000_00000001") {
		t.Fatalf("stderr %q", e)
	}
	if strings.Contains(out.String(), "assay gateway:") {
		t.Fatal("diagnostics on stdout")
	}
}

func TestGatewayCommandBadInput(t *testing.T) {
	t.Setenv("ASSAY_HOME", t.TempDir())
	for _, args := range [][]string{
		{"gateway", "--upstream-openai", "not a url"},
		{"gateway", "--trace", "../x"},
		{"gateway", "--addr", "256.0.0.1:80"},
	} {
		var out, errb bytes.Buffer
		code := run(args, strings.NewReader(""), &out, &errb)
		if code != 3 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: code %d stdout %q stderr %q", args, code, out.String(), errb.String())
		}
	}
}

func startMockForGateway(t *testing.T) string {
	t.Helper()
	m, err := mockllm.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m.URL()
}

// askHi sends a chat completion "hi" with the key and checks the
// synthetic answer came back.
func askHi(t *testing.T, url, model, key string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Synthetic answer to: hi") {
		t.Fatalf("answer: %s", b)
	}
}

// stopOnSIGINT interrupts this process and expects the command running in
// it (its exit code arrives on done) to stop with exit 0.
func stopOnSIGINT(t *testing.T, what string, done <-chan int, errb fmt.Stringer) {
	t.Helper()
	interruptSelf(t)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not stop on SIGINT", what)
	}
}
