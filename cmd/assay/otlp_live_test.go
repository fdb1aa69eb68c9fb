package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// spanSink is an OTLP/HTTP traces endpoint that decodes with pdata and
// keeps each span's attributes.
type spanSink struct {
	mu    sync.Mutex
	spans []map[string]any
}

func (s *spanSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	req := ptraceotlp.NewExportRequest()
	if r.URL.Path != "/v1/traces" || req.UnmarshalProto(b) != nil {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sps := sss.At(j).Spans()
			for k := 0; k < sps.Len(); k++ {
				a := sps.At(k).Attributes().AsRaw()
				a["$name"] = sps.At(k).Name()
				a["$error"] = sps.At(k).Status().Code() == ptrace.StatusCodeError
				s.spans = append(s.spans, a)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (s *spanSink) all() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.spans...)
}

func startSpanSink(t *testing.T) (*spanSink, string) {
	t.Helper()
	s := &spanSink{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// The recording gateway with --otlp-endpoint sends each receipt it writes
// as a GenAI span, live.
func TestGatewayLiveOTLPExport(t *testing.T) {
	t.Parallel()
	sink, url := startSpanSink(t)
	mock := startMockForGateway(t)
	home := t.TempDir()
	c := cliCmd(otlpEnv(home), "gateway", "--upstream-openai", mock+"/v1", "--trace", "trace_20261207T000000_0a0b0c0d", "--otlp-endpoint", url)
	var stderr syncBuf
	c.Stderr = &stderr
	pipe, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var base string
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "export OPENAI_BASE_URL="); ok {
			base = v
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pipe) }()
	if base == "" {
		_ = c.Process.Kill()
		t.Fatalf("no base URL; stderr %s", stderr.String())
	}
	askHi(t, base+"/chat/completions", "gpt-live", "sk-live-SECRET-000000000000")
	_ = c.Process.Signal(syscall.SIGINT)
	if err := c.Wait(); err != nil {
		t.Fatalf("gateway: %v\n%s", err, stderr.String())
	}
	spans := sink.all()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1\n%s", len(spans), stderr.String())
	}
	sp := spans[0]
	if sp["$name"] != "chat gpt-live" || sp["gen_ai.provider.name"] != "openai" || sp["assay.trace_id"] != "trace_20261207T000000_0a0b0c0d" ||
		!strings.HasPrefix(sp["assay.receipt_id"].(string), "mcr_") || sp["assay.input_hash"] == nil || sp["gen_ai.usage.input_tokens"] == nil {
		t.Fatalf("span %v", sp)
	}
	for k, v := range sp {
		if s, ok := v.(string); ok && strings.Contains(s, "SECRET") {
			t.Fatalf("secret exported in %s", k)
		}
	}
}

// `assay run --otlp-endpoint` sends the pack it built, with its pack id.
func TestRunExportsPackOTLP(t *testing.T) {
	t.Parallel()
	sink, url := startSpanSink(t)
	m, home, dir := otelStart(t)
	out := filepath.Join(dir, "pack")
	env := otlpEnv(home, "ASSAY_TEST_HELPER=otelapp", "MOCK_LLM_URL="+m.URL())
	sum, stderr := otelRun(t, env, "run", "--otlp", "--otlp-endpoint", url, "--json", "-o", out, "--", "env", "-u", envAsCLI, os.Args[0], "-test.run=^TestHelperOTelGoApp$")
	spans := sink.all()
	if len(spans) != sum.NReceipts || len(spans) != len(otelPrompts) {
		t.Fatalf("%d spans for %d receipts\n%s", len(spans), sum.NReceipts, stderr)
	}
	errs := 0
	for _, sp := range spans {
		if sp["assay.pack_id"] != sum.PackID || sp["assay.trace_id"] != sum.TraceID || sp["assay.integration_source"] != "assay.otlp" {
			t.Fatalf("span %v, pack %s", sp, sum.PackID)
		}
		if sp["$error"] == true {
			errs++
		}
	}
	if errs != 1 {
		t.Fatalf("%d error spans, want 1", errs)
	}
}

func TestExportOTLPBadInput(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "otlp", "trace_x"}, "no OTLP endpoint"},
		{[]string{"export", "otlp", "trace_x", "--otlp-endpoint", "ftp://x"}, "invalid OTLP endpoint"},
		{[]string{"export", "otlp", "../nope", "--otlp-endpoint", "http://127.0.0.1:1"}, "neither a pack directory nor a trace id"},
		{[]string{"export", "otlp", "trace_missing", "--otlp-endpoint", "http://127.0.0.1:1"}, "no trace trace_missing"},
	} {
		cmd := cliCmd(otlpEnv(home), c.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 3 || stdout.Len() != 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: %v stdout %q stderr %q", c.args, err, stdout.String(), stderr.String())
		}
	}
}

// `assay mcp serve --otlp-endpoint`: each tool call's receipt is sent as an
// execute_tool span, live.
func TestMCPServeLiveOTLPExport(t *testing.T) {
	t.Parallel()
	sink, url := startSpanSink(t)
	home, dir := t.TempDir(), t.TempDir()
	env := append(otlpEnv(home), envAsCLI+"=1")
	cli, ctx := proxyClient(t, env, "mcp", "serve", "--root", dir, "--trace-id", "trace_mcp_live_1", "--otlp-endpoint", url)
	req := mcp.CallToolRequest{}
	req.Params.Name = "verify-pack"
	req.Params.Arguments = map[string]any{"path": filepath.Join(dir, "no-such-pack")}
	if _, err := cli.CallTool(ctx, req); err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	_ = cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for len(sink.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	spans := sink.all()
	if len(spans) == 0 {
		t.Fatal("no span exported")
	}
	sp := spans[0]
	if sp["$name"] != "execute_tool verify-pack" || sp["gen_ai.tool.name"] != "verify-pack" || sp["assay.receipt_type"] != "mcp_tool_call" ||
		sp["assay.trace_id"] != "trace_mcp_live_1" {
		t.Fatalf("span %v", sp)
	}
}
