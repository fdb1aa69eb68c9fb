package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/otlpin"
	"github.com/assay-dev/assay/core/store"
)

// otelPrompts are the calls the instrumented Go app makes; "gpt-error-500"
// makes the synthetic server fail the last one.
var otelPrompts = []struct{ model, prompt string }{
	{"gpt-4o", "what is two plus two"},
	{"gpt-4o-mini", "name a colour"},
	{"gpt-error-500", "fail please"},
}

// otelChat makes one chat completion against the synthetic LLM server
// inside a GenAI client span, as an OpenTelemetry GenAI instrumentation
// does: operation, provider and model at start; usage, finish reason and
// status from the answer.
func otelChat(ctx context.Context, tr trace.Tracer, base, model, prompt string) error {
	_, sp := tr.Start(ctx, "chat "+model, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.GenAIOperationNameChat, semconv.GenAIProviderNameOpenAI, semconv.GenAIRequestModel(model),
			semconv.ServerAddress("127.0.0.1")))
	defer sp.End()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]}`, model, prompt)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-otel-app-SECRET-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		sp.SetStatus(codes.Error, err.Error())
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		sp.SetStatus(codes.Error, fmt.Sprintf("HTTP %d", resp.StatusCode))
		sp.SetAttributes(semconv.ErrorTypeKey.String(fmt.Sprint(resp.StatusCode)))
		return nil
	}
	var r struct {
		ID      string `json:"id"`
		Model   string `json:"model"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			Prompt     int `json:"prompt_tokens"`
			Completion int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	sp.SetAttributes(semconv.GenAIResponseID(r.ID), semconv.GenAIResponseModel(r.Model),
		semconv.GenAIUsageInputTokens(r.Usage.Prompt), semconv.GenAIUsageOutputTokens(r.Usage.Completion))
	if len(r.Choices) > 0 {
		sp.SetAttributes(semconv.GenAIResponseFinishReasons(r.Choices[0].FinishReason))
	}
	sp.SetAttributes(attribute.String(string(semconv.GenAIInputMessagesKey), fmt.Sprintf(`[{"role":"user","parts":[{"type":"text","content":%q}]}]`, prompt)))
	return nil
}

// TestHelperOTelGoApp is not a test: it is the instrumented Go app that
// `assay run --otlp` starts (ASSAY_TEST_HELPER=otelapp). Its exporter is
// configured only by the OTEL_EXPORTER_OTLP_* variables run sets.
func TestHelperOTelGoApp(t *testing.T) {
	if os.Getenv("ASSAY_TEST_HELPER") != "otelapp" {
		return
	}
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("go-otel-app"))))
	tr := tp.Tracer("assay-test/otelapp")
	for _, p := range otelPrompts {
		if err := otelChat(ctx, tr, os.Getenv("MOCK_LLM_URL"), p.model, p.prompt); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := tp.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "otel shutdown:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// cliCmd is this test binary acting as the assay CLI, with an explicit
// environment (no process-global state).
func cliCmd(env []string, args ...string) *exec.Cmd {
	c := exec.Command(os.Args[0], args...)
	c.Env = append(env, envAsCLI+"=1")
	return c
}

// otelStart is the start every OTel test shares: the synthetic LLM server
// (closed when the test ends), a private assay home and a work directory.
func otelStart(t *testing.T) (llm *mockllm.Server, home, dir string) {
	t.Helper()
	llm, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { llm.Close() })
	return llm, t.TempDir(), t.TempDir()
}

// otelRun runs `assay run ... --json` (args) in env, wants exit 0 and
// returns its summary and stderr.
func otelRun(t *testing.T, env []string, args ...string) (runSummary, string) {
	t.Helper()
	c := cliCmd(env, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	stdout, err := c.Output()
	if err != nil {
		t.Fatalf("run: %v\nstdout %s\nstderr %s", err, stdout, stderr.String())
	}
	var sum runSummary
	ckJSON(t, string(stdout), &sum)
	return sum, stderr.String()
}

// otelPack packs trace with `assay proof-pack` into out, wants it to pass
// `assay verify-pack`, and returns its receipts.
func otelPack(t *testing.T, env []string, trace, out string) []*canon.Object {
	t.Helper()
	if b, err := cliCmd(env, "proof-pack", trace, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("proof-pack: %v\n%s", err, b)
	}
	verifyPackCLI(t, env, out)
	return otlpPackReceipts(t, out)
}

// otlpEnv is a clean environment for a CLI child: its own home, no
// inherited OpenTelemetry settings.
func otlpEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "ASSAY_") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, store.EnvHome+"="+home), extra...)
}

// otlpPackReceipts reads a pack's receipt lines in canonical form.
func otlpPackReceipts(t *testing.T, dir string) []*canon.Object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "receipt_pack.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*canon.Object
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		v, err := canon.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v.(*canon.Object))
	}
	return out
}

// verifyPackCLI runs verify-pack on dir and wants exit 0.
func verifyPackCLI(t *testing.T, env []string, dir string) {
	t.Helper()
	out, err := cliCmd(env, "verify-pack", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("verify-pack %s: %v\n%s", dir, err, out)
	}
}

// checkOTelCalls asserts one model_call per prompt with the mapped fields;
// content says whether the spans carried the messages (the Go app puts
// them on the span; Node's instrumentation sends them as log events).
func checkOTelCalls(t *testing.T, rs []*canon.Object, service string, content bool) {
	t.Helper()
	var calls []*canon.Object
	for _, r := range rs {
		if r.String("type") == "model_call" {
			calls = append(calls, r)
		}
	}
	if len(calls) != len(otelPrompts) {
		t.Fatalf("%d model_call receipts, want %d: %v", len(calls), len(otelPrompts), rs)
	}
	byModel := map[string]*canon.Object{}
	for _, c := range calls {
		byModel[c.String("model_id")] = c
		if c.String("provider") != "openai" || c.String("integration_source") != "assay.otlp" || c.String("otel_service_name") != service ||
			!strings.HasPrefix(c.String("receipt_id"), "mcr_") || !strings.HasPrefix(c.String("endpoint_hint"), "127.0.0.1") {
			t.Errorf("receipt fields: %v", c.Members)
		}
		if b, _ := canon.Marshal(c); bytes.Contains(b, []byte("SECRET")) {
			t.Errorf("a credential reached the receipt: %s", b)
		}
	}
	for _, p := range otelPrompts[:2] {
		c := byModel[p.model]
		if c == nil {
			t.Fatalf("no receipt for %s", p.model)
		}
		in := fmt.Sprint(mockllm.Tokens(p.prompt))
		out := fmt.Sprint(mockllm.Tokens(mockllm.Reply(p.prompt)))
		if g, _ := c.Get("input_tokens"); fmt.Sprint(g) != in {
			t.Errorf("%s input_tokens %v, want %s", p.model, g, in)
		}
		if g, _ := c.Get("output_tokens"); fmt.Sprint(g) != out {
			t.Errorf("%s output_tokens %v, want %s", p.model, g, out)
		}
		if c.String("usage_source") != "provider" || c.String("finish_reason") != "stop" || (c.String("input_hash") != "") != content {
			t.Errorf("%s: %v", p.model, c.Members)
		}
		if e, _ := c.Get("error"); e != nil {
			t.Errorf("%s error %v", p.model, e)
		}
	}
	bad := byModel["gpt-error-500"]
	if bad == nil || !strings.Contains(bad.String("error"), "500") || bad.String("finish_reason") != "error" || bad.String("usage_source") != "absent" {
		t.Errorf("failed call: %v", bad)
	}
}

// `assay run --otlp -- APP`: an app instrumented with the official Go
// OpenTelemetry SDK, configured only by the variables run sets, yields a
// verifying pack with one receipt per LLM call and no assay code.
func TestRunOTLPGoApp(t *testing.T) {
	t.Parallel()
	m, home, dir := otelStart(t)
	out := filepath.Join(dir, "pack")
	env := otlpEnv(home, "ASSAY_TEST_HELPER=otelapp", "MOCK_LLM_URL="+m.URL(),
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:1/elsewhere") // run must override it
	sum, stderr := otelRun(t, env, "run", "--otlp", "--json", "-o", out, "--",
		"env", "-u", envAsCLI, os.Args[0], "-test.run=^TestHelperOTelGoApp$") // the app is this binary as a test helper, not as the CLI
	if sum.NReceipts != len(otelPrompts) || sum.Verdict != "PASS" {
		t.Fatalf("summary %+v\nstderr %s", sum, stderr)
	}
	checkOTelCalls(t, otlpPackReceipts(t, out), "go-otel-app", true)
	verifyPackCLI(t, otlpEnv(home), out)
}

func TestRunOTLPBadFlags(t *testing.T) {
	t.Parallel()
	c := cliCmd(otlpEnv(t.TempDir()), "run", "--otlp-content", "--", "true")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "--otlp-content needs --otlp") {
		t.Fatalf("err %v stdout %q stderr %q", err, stdout.String(), stderr.String())
	}
}

// startCollect starts `assay collect --otlp 127.0.0.1:0 --json` and
// returns its base URL and a stop function that SIGINTs it and returns its
// stderr.
func startCollect(t *testing.T, env []string, extra ...string) (string, func() string) {
	t.Helper()
	doc, stop := startCollectDoc(t, env, extra...)
	return doc.URL, stop
}

// startCollectDoc is startCollect returning the whole --json document.
func startCollectDoc(t *testing.T, env []string, extra ...string) (collectStart, func() string) {
	t.Helper()
	c := cliCmd(env, append([]string{"collect", "--otlp", "127.0.0.1:0", "--json"}, extra...)...)
	var stderr syncBuf
	c.Stderr = &stderr
	pipe, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var doc collectStart
	if err := json.NewDecoder(bufio.NewReader(pipe)).Decode(&doc); err != nil {
		_ = c.Process.Kill()
		t.Fatalf("collect did not start: %v\n%s", err, stderr.String())
	}
	stopped := false
	stop := func() string {
		if stopped {
			return stderr.String()
		}
		stopped = true
		_ = c.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("collect exited with %v\n%s", err, stderr.String())
			}
		case <-time.After(60 * time.Second):
			_ = c.Process.Kill()
			t.Fatalf("collect did not stop on SIGINT\n%s", stderr.String())
		}
		return stderr.String()
	}
	t.Cleanup(func() { stop() })
	return doc, stop
}

// An in-test program instrumented with the official Go SDK sends GenAI
// spans straight to `assay collect`; proof-pack of the OTel trace gives a
// verifying pack with one receipt per call.
func TestCollectGoSDK(t *testing.T) {
	t.Parallel()
	m, home, dir := otelStart(t)
	env := otlpEnv(home)
	url, stop := startCollect(t, env)
	root := sendGoSpans(t, m.URL(), otlptracehttp.WithEndpointURL(url+"/v1/traces"))
	errs := stop()
	trace := otlpin.TraceFor(root.String())
	if !strings.Contains(errs, "trace "+trace+": "+fmt.Sprint(len(otelPrompts))+" receipts") {
		t.Fatalf("collect stderr: %s", errs)
	}
	checkOTelCalls(t, otelPack(t, env, trace, filepath.Join(dir, "pack")), "go-collect-app", true)
}

// sendGoSpans runs the instrumented calls in this process under one root
// span and returns its trace id.
func sendGoSpans(t *testing.T, llm string, opts ...otlptracehttp.Option) trace.TraceID {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sendGoSpansTo(t, llm, exp)
}

// sendGoSpansTo is sendGoSpans through any of the SDK's exporters.
func sendGoSpansTo(t *testing.T, llm string, exp sdktrace.SpanExporter) trace.TraceID {
	t.Helper()
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("go-collect-app"))))
	tr := tp.Tracer("assay-test/collect")
	ctx, root := tr.Start(ctx, "invoke_agent test")
	for _, p := range otelPrompts {
		if err := otelChat(ctx, tr, llm, p.model, p.prompt); err != nil {
			t.Fatal(err)
		}
	}
	root.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("exporter: %v", err)
	}
	return root.SpanContext().TraceID()
}

func TestCollectBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"collect"},
		{"collect", "--otlp", "nonsense"},
		{"collect", "--otlp", "127.0.0.1:0", "--trace", "../x"},
		{"collect", "--otlp", "127.0.0.1:0", "--max-body-bytes", "0"},
	} {
		c := cliCmd(otlpEnv(t.TempDir()), args...)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 3 || stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: %v stdout %q stderr %q", args, err, stdout.String(), stderr.String())
		}
	}
}

// nodeOTelApp returns testdata/otel-js/app.cjs, failing (never skipping)
// when node or the OpenTelemetry packages are missing.
func nodeOTelApp(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/otel-js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: run scripts/setup.d/35-npm-otel-js.sh (it installs Debian's nodejs and the packages)")
	}
	for _, pkg := range []string{"@opentelemetry/sdk-node", "@opentelemetry/instrumentation-openai", "openai"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s is not installed in testdata/otel-js/node_modules: run scripts/setup.d/35-npm-otel-js.sh", pkg)
		}
	}
	return filepath.Join(dir, "app.cjs")
}

// nodeAppEnv is the Node app's environment: the synthetic LLM server, a
// fake key that must never be recorded, the calls to make.
func nodeAppEnv(t *testing.T, llm, service string) []string {
	t.Helper()
	calls := make([][2]string, len(otelPrompts))
	for i, p := range otelPrompts {
		calls[i] = [2]string{p.model, p.prompt}
	}
	b, _ := json.Marshal(calls)
	return []string{"OPENAI_BASE_URL=" + llm + "/v1", "OPENAI_API_KEY=sk-otel-app-SECRET-0123456789",
		"APP_CALLS=" + string(b), "OTEL_SERVICE_NAME=" + service, "OTEL_METRICS_EXPORTER=none"}
}

// `assay run --otlp -- node app.cjs`: the official Node OpenTelemetry SDK
// with @opentelemetry/instrumentation-openai, calling the synthetic LLM
// server through the openai SDK, yields a verifying pack with one
// model_call receipt per call.
func TestRunOTLPNodeApp(t *testing.T) {
	t.Parallel()
	app := nodeOTelApp(t)
	m, home, dir := otelStart(t)
	out := filepath.Join(dir, "pack")
	env := otlpEnv(home, nodeAppEnv(t, m.URL(), "node-otel-app")...)
	sum, stderr := otelRun(t, env, "run", "--otlp", "--json", "-o", out, "--", "env", "-u", envAsCLI, "node", app)
	if sum.NReceipts != len(otelPrompts) || sum.Verdict != "PASS" || !strings.Contains(stderr, "calls=3 failed=1") {
		t.Fatalf("summary %+v\nstderr %s", sum, stderr)
	}
	rs := otlpPackReceipts(t, out)
	checkOTelCalls(t, rs, "node-otel-app", false)
	for _, r := range rs {
		if r.String("otel_scope_name") != "@opentelemetry/instrumentation-openai" || r.String("otel_provider") != "openai" {
			t.Errorf("scope/provider: %v", r.Members)
		}
	}
	verifyPackCLI(t, otlpEnv(home), out)
}
