package capture_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/internal/sdktest"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

const trace = "trace_20260101T000000_0e0e0e0e"

func startMock(t *testing.T) *mockllm.Server {
	t.Helper()
	m, err := mockllm.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func baseFor(m *mockllm.Server, api sdktest.API) string {
	if api.Provider == "openai" {
		return m.URL() + "/v1"
	}
	return m.URL()
}

func read(t *testing.T, st *store.Store) []*receipt.Receipt {
	t.Helper()
	if _, ok, _ := st.Find(trace); !ok {
		return nil
	}
	rs, probs, err := st.Read(trace)
	if err != nil || len(probs) > 0 {
		t.Fatalf("read: %v %v", err, probs)
	}
	return rs
}

func here() int { _, _, line, _ := runtime.Caller(1); return line }

// TestSDKsThroughMiddleware runs the three Go SDKs over the middleware
// (synchronous mode): each receipt is durable when the SDK call returns,
// with exact fields and the callsite of the calling line in this file.
func TestSDKsThroughMiddleware(t *testing.T) {
	t.Parallel()
	m := startMock(t)
	st := store.Open(t.TempDir())
	tr, err := capture.NewTransport(capture.Options{Store: st, TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	hc := tr.Client()
	ctx := context.Background()
	n := 0
	for _, api := range sdktest.APIs {
		for _, stream := range []bool{false, true} {
			model := "mw-" + api.Name + "-" + strconv.FormatBool(stream)
			c := sdktest.Call{Base: baseFor(m, api), HTTP: hc, Key: sdktest.Secret, Model: model, System: sdktest.System, Prompt: sdktest.Prompt, Stream: stream}
			line := here() + 1
			text, err := api.Run(ctx, c)
			if err != nil || text != sdktest.Answer {
				t.Fatalf("%s: %q %v", model, text, err)
			}
			n++
			rs := read(t, st)
			if len(rs) != n {
				t.Fatalf("%s: %d receipts durable after the call returned, want %d", model, len(rs), n)
			}
			want := api.Want(model, stream)
			want["integration_source"] = "assay.middleware.go"
			want["callsite_file"] = "middleware_test.go"
			want["callsite_line"] = strconv.Itoa(line)
			want["callsite_id"] = sdktest.Sha256("middleware_test.go:" + strconv.Itoa(line))[:12]
			want["seq"] = strconv.Itoa(n - 1)
			sdktest.Check(t, rs[n-1], want)
		}
	}
	if s := tr.Stats(); s.Written != 8 || s.Lost != 0 {
		t.Fatalf("stats %+v", s)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	p, _, _ := st.Find(trace)
	b, _ := os.ReadFile(p)
	if bytes.Contains(b, []byte(sdktest.Secret)) {
		t.Fatal("API key in the store")
	}
	sdktest.PackVerifies(t, st, trace)
}

// TestTwoLines is the documented usage: construct, pass to the SDK; the
// trace and the store come from ASSAY_TRACE_ID and ASSAY_HOME.
func TestTwoLines(t *testing.T) {
	m := startMock(t)
	home := t.TempDir()
	t.Setenv(store.EnvHome, home)
	t.Setenv(store.EnvTrace, trace)
	hc, err := capture.NewClient(capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := openai.NewClient(option.WithHTTPClient(hc), option.WithBaseURL(m.URL()+"/v1"), option.WithAPIKey("k"))
	line := here() + 1
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")}})
	if err != nil || resp.Choices[0].Message.Content != sdktest.Answer {
		t.Fatalf("%v %v", resp, err)
	}
	rs := read(t, store.Open(home))
	if len(rs) != 1 {
		t.Fatalf("%d receipts", len(rs))
	}
	sdktest.Check(t, rs[0], map[string]string{
		"model_id": "gpt-4o", "input_tokens": "2", "output_tokens": "5", "total_tokens": "7",
		"input_hash":  sdktest.Sha256(`{"input":[{"content":"hello there","role":"user"}]}`),
		"callsite_id": sdktest.Sha256("middleware_test.go:" + strconv.Itoa(line))[:12],
		"endpoint":    m.URL() + "/v1/chat/completions",
	})
}

// TestAsyncAndPassThrough: async receipts are durable after Close; non-model
// requests pass through without receipts.
func TestAsyncAndPassThrough(t *testing.T) {
	t.Parallel()
	m := startMock(t)
	st := store.Open(t.TempDir())
	tr, err := capture.NewTransport(capture.Options{Store: st, TraceID: trace, Async: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		api := sdktest.APIs[i%4]
		if _, err := api.Run(context.Background(), sdktest.Call{Base: baseFor(m, api), HTTP: tr.Client(), Key: "k", Model: "a" + strconv.Itoa(i), Prompt: "p", Stream: i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := tr.Client().Get(m.URL() + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if rs := read(t, st); len(rs) != 20 {
		t.Fatalf("%d receipts after Close, want 20", len(rs))
	}
}

// TestLostReceiptIsLoud: a store that cannot be written does not break the
// SDK call, but the loss is logged and counted, and Close reports it.
func TestLostReceiptIsLoud(t *testing.T) {
	t.Parallel()
	m := startMock(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.WriteFile(home, []byte("a file, not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	lg := zerolog.New(&logs)
	tr, err := capture.NewTransport(capture.Options{Store: store.Open(home), TraceID: trace, Logger: &lg})
	if err != nil {
		t.Fatal(err)
	}
	text, err := sdktest.OpenAIChat(context.Background(), sdktest.Call{Base: m.URL() + "/v1", HTTP: tr.Client(), Key: sdktest.Secret, Model: "gpt-lost", Prompt: "x"})
	if err != nil || text == "" {
		t.Fatalf("the SDK call failed because of the store: %v", err)
	}
	if s := tr.Stats(); s.Lost != 1 || s.Written != 0 {
		t.Fatalf("stats %+v", s)
	}
	if !strings.Contains(logs.String(), "receipt NOT written") || !strings.Contains(logs.String(), `"receipts_lost":1`) || strings.Contains(logs.String(), sdktest.Secret) {
		t.Fatalf("log: %s", logs.String())
	}
	if err := tr.Close(); err == nil || !strings.Contains(err.Error(), "1 model_call receipt(s) could not be written") {
		t.Fatalf("Close: %v", err)
	}
}

// TestErrorsAndCancel: an HTTP error and a cancelled stream still yield
// receipts; an unreachable upstream yields one with the dial error.
func TestErrorsAndCancel(t *testing.T) {
	t.Parallel()
	m := startMock(t)
	st := store.Open(t.TempDir())
	tr, err := capture.NewTransport(capture.Options{Store: st, TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	hc := tr.Client()
	if _, err := sdktest.Gemini(context.Background(), sdktest.Call{Base: m.URL(), HTTP: hc, Key: "k", Model: "gemini-error-503", Prompt: "x"}); err == nil {
		t.Fatal("no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl := openai.NewClient(option.WithHTTPClient(hc), option.WithBaseURL(m.URL()+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	s := cl.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-slow", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three four five six")}})
	if !s.Next() {
		t.Fatal(s.Err())
	}
	cancel()
	for s.Next() {
	}
	s.Close()
	if _, err := sdktest.OpenAIChat(context.Background(), sdktest.Call{Base: "http://127.0.0.1:1/v1", HTTP: hc, Key: "k", Model: "gpt-nowhere", Prompt: "x"}); err == nil {
		t.Fatal("no error")
	}
	by := sdktest.ByModel(read(t, st))
	sdktest.Check(t, by["gemini-error-503"], map[string]string{"error": "HTTP 503: injected error 503 for model gemini-error-503", "finish_reason": "error", "http_status": "503"})
	if e := sdktest.Field(by["gpt-slow"], "error"); !strings.HasPrefix(e, "request cancelled before the response ended") {
		t.Fatalf("cancelled stream error %q", e)
	}
	if e := sdktest.Field(by["gpt-nowhere"], "error"); !strings.HasPrefix(e, "upstream unreachable: ") {
		t.Fatalf("unreachable error %q", e)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	c := &capture.Call{}
	c.SecretsFrom(http.Header{"Authorization": {"Bearer tok-abcdef123"}, "X-Api-Key": {"xk-999999"}}, map[string][]string{"key": {"AIzaSyQ-query-key"}})
	got := c.Redact("bad key tok-abcdef123 / xk-999999 / AIzaSyQ-query-key / Incorrect API key provided: sk-proj-abcdefghijklmnop1234")
	for _, s := range []string{"tok-abcdef123", "xk-999999", "AIzaSyQ", "sk-proj-abcdefghijklmnop1234"} {
		if strings.Contains(got, s) {
			t.Fatalf("%q survived: %s", s, got)
		}
	}
}

// gzipped answers like an API that compresses for a client that asked for
// gzip itself (the transport then leaves the body compressed).
type gzipped struct{ body string }

func (g gzipped) RoundTrip(r *http.Request) (*http.Response, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(g.body))
	zw.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
		Body: io.NopCloser(&b), Request: r}, nil
}

func TestCompressedResponse(t *testing.T) {
	t.Parallel()
	st := store.Open(t.TempDir())
	tr, err := capture.NewTransport(capture.Options{Store: st, TraceID: trace, Base: gzipped{cannedChat}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", strings.NewReader(chatReq))
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := tr.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(raw, []byte("Synthetic")) {
		t.Fatal("the caller must get the body as the server sent it (compressed)")
	}
	rs := read(t, st)
	sdktest.Check(t, rs[0], map[string]string{
		"output_hash":  sdktest.Sha256(`"Synthetic answer to: how much does the middleware cost"`),
		"input_tokens": "12", "output_tokens": "9", "total_tokens": "21", "endpoint": "https://api.openai.com/v1/chat/completions",
		"error": "null",
	})
	if _, ok := rs[0].Get("endpoint_hint"); ok {
		t.Fatal("endpoint_hint on the vendor's own host")
	}
}

// TestContentOnlyOnOptIn: prompts and answers stay out of receipts unless
// asked for; with the opt-in they are recorded as sent and received.
func TestContentOnlyOnOptIn(t *testing.T) {
	t.Parallel()
	m := startMock(t)
	for _, optIn := range []bool{false, true} {
		st := store.Open(t.TempDir())
		tr, err := capture.NewTransport(capture.Options{Store: st, TraceID: trace, StoreContent: optIn})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sdktest.Anthropic(context.Background(), sdktest.Call{Base: m.URL(), HTTP: tr.Client(), Key: "k", Model: "c", System: sdktest.System, Prompt: sdktest.Prompt, Stream: true}); err != nil {
			t.Fatal(err)
		}
		r := read(t, st)[0]
		if !optIn {
			for _, k := range []string{"input_content", "system_content", "output_content"} {
				if _, ok := r.Get(k); ok {
					t.Fatalf("%s recorded without opt-in", k)
				}
			}
			p, _, _ := st.Find(trace)
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("hello there")) || bytes.Contains(b, []byte("Synthetic answer")) {
				t.Fatal("prompt or answer text in the store without opt-in")
			}
			continue
		}
		sdktest.Check(t, r, map[string]string{
			"input_content":  `[{"content":[{"text":"hello there","type":"text"}],"role":"user"}]`,
			"system_content": `[{"text":"be brief","type":"text"}]`,
			"output_content": sdktest.Answer,
		})
	}
}
