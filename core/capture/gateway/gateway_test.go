package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/capture/internal/sdktest"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

const trace = "trace_20260101T000000_0a0b0c0d"

// harness is a synthetic upstream, a store and a gateway in front.
type harness struct {
	mock *mockllm.Server
	st   *store.Store
	gw   *gateway.Gateway
	env  map[string]string
}

func newHarness(t *testing.T, upstreams map[string]string) *harness {
	t.Helper()
	mock, err := mockllm.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Close() })
	if upstreams == nil {
		upstreams = map[string]string{"openai": mock.URL() + "/v1", "anthropic": mock.URL(), "gemini": mock.URL()}
	}
	st := store.Open(t.TempDir())
	gw, err := gateway.Start(context.Background(), gateway.Options{Store: st, TraceID: trace, Upstreams: upstreams, GracePeriod: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	env := map[string]string{}
	for _, kv := range gw.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return &harness{mock: mock, st: st, gw: gw, env: env}
}

func (h *harness) base(api sdktest.API) string {
	switch api.Provider {
	case "openai":
		return h.env["OPENAI_BASE_URL"]
	case "anthropic":
		return h.env["ANTHROPIC_BASE_URL"]
	}
	return h.env["GOOGLE_GEMINI_BASE_URL"]
}

// receipts closes the gateway (so every receipt is durable) and reads the trace.
func (h *harness) receipts(t *testing.T) []*receipt.Receipt {
	t.Helper()
	if err := h.gw.Close(); err != nil {
		t.Fatal(err)
	}
	rs, probs, err := h.st.Read(trace)
	if err != nil || len(probs) > 0 {
		t.Fatalf("read trace: %v %v", err, probs)
	}
	return rs
}

// noSecret asserts the API key never reached the store.
func (h *harness) noSecret(t *testing.T) {
	t.Helper()
	p, ok, err := h.st.Find(trace)
	if err != nil || !ok {
		t.Fatalf("no trace file: %v", err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), sdktest.Secret) || strings.Contains(string(b), "SECRET") {
		t.Fatal("the API key was written to the store")
	}
}

func TestEnvPointsSDKsAtGateway(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	u := h.gw.URL()
	want := []string{"OPENAI_BASE_URL=" + u + "/openai", "ANTHROPIC_BASE_URL=" + u + "/anthropic", "GOOGLE_GEMINI_BASE_URL=" + u + "/gemini"}
	if got := h.gw.Env(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Env() = %v", got)
	}
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("not on loopback: %s", u)
	}
}

// Bound to every interface, the gateway still hands the SDKs a URL they
// can dial on this host (it printed "http://[::]:port"), and a call
// through that URL is recorded.
func TestWildcardBindGivesLoopbackURL(t *testing.T) {
	t.Parallel()
	mock, err := mockllm.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	st := store.Open(t.TempDir())
	gw, err := gateway.Start(context.Background(), gateway.Options{Addr: "0.0.0.0:0", Store: st, TraceID: trace,
		Upstreams: map[string]string{"openai": mock.URL() + "/v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	if !strings.HasPrefix(gw.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s", gw.URL())
	}
	req, _ := http.NewRequest(http.MethodPost, gw.URL()+"/openai/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := gw.Close(); err != nil || gw.Stats().ReceiptsWritten != 1 {
		t.Fatalf("close: %v, stats %+v", err, gw.Stats())
	}
}

// TestSDKsThroughGateway runs openai-go (chat, responses), anthropic-sdk-go
// and genai, streaming and not, through the gateway and checks every
// receipt field exactly.
func TestSDKsThroughGateway(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	type sent struct {
		api    sdktest.API
		model  string
		stream bool
	}
	var calls []sent
	for _, api := range sdktest.APIs {
		for _, stream := range []bool{false, true} {
			model := "m-" + api.Name
			if stream {
				model += "-stream"
			}
			text, err := api.Run(ctx, sdktest.Call{Base: h.base(api), Key: sdktest.Secret, Model: model, System: sdktest.System, Prompt: sdktest.Prompt, Stream: stream})
			if err != nil {
				t.Fatalf("%s: %v", model, err)
			}
			if text != sdktest.Answer {
				t.Fatalf("%s: text %q", model, text)
			}
			calls = append(calls, sent{api, model, stream})
		}
	}
	rs := h.receipts(t)
	if len(rs) != len(calls) {
		t.Fatalf("%d receipts for %d calls", len(rs), len(calls))
	}
	by := sdktest.ByModel(rs)
	for _, c := range calls {
		r := by[c.model]
		if r == nil {
			t.Fatalf("no receipt for %s", c.model)
		}
		want := c.api.Want(c.model, c.stream)
		want["integration_source"] = "assay.gateway"
		want["_trace_id"] = trace
		sdktest.Check(t, r, want)
		ep := sdktest.Field(r, "endpoint")
		if !strings.HasPrefix(ep, h.mock.URL()+"/v1") || strings.Contains(ep, "?") {
			t.Errorf("%s: endpoint %q", c.model, ep)
		}
		if hint := sdktest.Field(r, "endpoint_hint"); hint != strings.TrimPrefix(h.mock.URL(), "http://") {
			t.Errorf("%s: endpoint_hint %q", c.model, hint)
		}
	}
	st := h.gw.Stats()
	if st.ModelCalls != 8 || st.ReceiptsWritten != 8 || st.ReceiptsLost != 0 || st.ReceiptsPending != 0 {
		t.Fatalf("stats %+v", st)
	}
	h.noSecret(t)
	sdktest.PackVerifies(t, h.st, trace)
}

func TestUpstreamErrorsStillRecorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	call := func(api sdktest.API, model string, stream bool) error {
		_, err := api.Run(ctx, sdktest.Call{Base: h.base(api), Key: sdktest.Secret, Model: model, Prompt: "a b c d e f", Stream: stream})
		return err
	}
	if err := call(sdktest.APIs[0], "gpt-error-500", false); err == nil {
		t.Fatal("error model: no error from the SDK")
	}
	if err := call(sdktest.APIs[2], "claude-error-429", true); err == nil {
		t.Fatal("error model: no error from the SDK")
	}
	if err := call(sdktest.APIs[0], "gpt-abort", true); err == nil {
		t.Fatal("abort model: no error from the SDK")
	}
	by := sdktest.ByModel(h.receipts(t))
	sdktest.Check(t, by["gpt-error-500"], map[string]string{
		"error": "HTTP 500: injected error 500 for model gpt-error-500", "finish_reason": "error", "http_status": "500",
		"usage_source": "absent", "input_tokens": "0", "output_hash": "null",
	})
	sdktest.Check(t, by["claude-error-429"], map[string]string{
		"error": "HTTP 429: injected error 429 for model claude-error-429", "finish_reason": "error", "http_status": "429", "stream": "true",
	})
	r := by["gpt-abort"]
	if r == nil {
		t.Fatal("no receipt for the aborted stream")
	}
	if e := sdktest.Field(r, "error"); !strings.HasPrefix(e, "response cut short: ") || sdktest.Field(r, "finish_reason") != "error" {
		t.Fatalf("aborted stream receipt: error %q", e)
	}
	// Half of the words arrived before the upstream dropped the stream; their
	// text is what the receipt hashes.
	if got := sdktest.Field(r, "output_hash"); got == "null" {
		t.Fatal("aborted stream: partial text not hashed")
	}
	h.noSecret(t)
}

func TestUnreachableUpstream(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	h := newHarness(t, map[string]string{"openai": dead + "/v1", "gemini": dead})
	// Gemini accepts the API key in the query: it must reach neither the
	// 502 line nor the receipt.
	resp, err := http.Post(h.env["GOOGLE_GEMINI_BASE_URL"]+"/v1beta/models/gemini-q:generateContent?key="+sdktest.Secret, "application/json", strings.NewReader(`{"contents":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "SECRET") || !strings.Contains(string(body), "ASSAY_UPSTREAM_GEMINI") {
		t.Fatalf("gemini 502: %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, h.env["OPENAI_BASE_URL"]+"/chat/completions", strings.NewReader(`{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+sdktest.Secret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", resp.StatusCode)
	}
	line := string(body)
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") || !strings.Contains(line, dead+"/v1 unreachable") || !strings.Contains(line, "ASSAY_UPSTREAM_OPENAI") {
		t.Fatalf("502 body is not one clear line: %q", line)
	}
	rs := h.receipts(t)
	if len(rs) != 2 {
		t.Fatalf("%d receipts", len(rs))
	}
	by := sdktest.ByModel(rs)
	for _, r := range rs {
		if e := sdktest.Field(r, "error"); !strings.HasPrefix(e, "upstream unreachable: ") || !strings.Contains(e, "connection refused") {
			t.Fatalf("error %q", e)
		}
	}
	sdktest.Check(t, by["gemini-q"], map[string]string{"endpoint": dead + "/v1beta/models/gemini-q:generateContent", "provider": "google"})
	sdktest.Check(t, by["gpt-x"], map[string]string{"model_id": "gpt-x", "finish_reason": "error", "http_status": "0", "endpoint": dead + "/v1/chat/completions"})
	h.noSecret(t)
}

// gatedUpstream sends the first SSE event of an OpenAI stream, then waits
// for release before finishing: a client that sees the first event while
// the upstream is blocked proves the gateway does not buffer.
type gatedUpstream struct {
	release chan struct{}
	headers chan http.Header
}

func (g *gatedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.headers <- r.Header.Clone()
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-gated","choices":[{"index":0,"delta":{"role":"assistant","content":"first "},"finish_reason":null}]}`+"\n\n")
	w.(http.Flusher).Flush()
	select {
	case <-g.release:
	case <-r.Context().Done():
		return
	}
	io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-gated","choices":[{"index":0,"delta":{"content":"second"},"finish_reason":"stop"}]}`+"\n\n")
	io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-gated","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`+"\n\ndata: [DONE]\n\n")
}

func TestStreamPassesThroughUnbuffered(t *testing.T) {
	t.Parallel()
	up := &gatedUpstream{release: make(chan struct{}), headers: make(chan http.Header, 1)}
	srv := httptest.NewServer(up)
	defer srv.Close()
	h := newHarness(t, map[string]string{"openai": srv.URL + "/v1"})
	req, _ := http.NewRequest(http.MethodPost, h.env["OPENAI_BASE_URL"]+"/chat/completions", strings.NewReader(`{"model":"gpt-gated","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Authorization", "Bearer "+sdktest.Secret)
	req.Header.Set("X-Assay-Callsite", "app/agent.py:42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	hdr := <-up.headers
	if hdr.Get("X-Assay-Callsite") != "" || hdr.Get("Authorization") != "Bearer "+sdktest.Secret {
		t.Fatalf("upstream headers: callsite %q, auth passed through %v", hdr.Get("X-Assay-Callsite"), hdr.Get("Authorization") != "")
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.Contains(first, `"first "`) {
		t.Fatalf("first event did not arrive while the upstream was still streaming: %q %v", first, err)
	}
	close(up.release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("rest of stream: %q", rest)
	}
	rs := h.receipts(t)
	if len(rs) != 1 {
		t.Fatalf("%d receipts", len(rs))
	}
	sdktest.Check(t, rs[0], map[string]string{
		"model_id": "gpt-gated", "input_tokens": "3", "output_tokens": "2", "total_tokens": "5", "usage_source": "provider",
		"finish_reason": "stop", "error": "null", "output_hash": sdktest.Sha256(`"first second"`),
		"callsite_id": sdktest.Sha256("app/agent.py:42")[:12], "stream": "true",
	})
}

func TestClientDisconnectMidStream(t *testing.T) {
	t.Parallel()
	up := &gatedUpstream{release: make(chan struct{}), headers: make(chan http.Header, 1)}
	srv := httptest.NewServer(up)
	defer srv.Close()
	h := newHarness(t, map[string]string{"openai": srv.URL + "/v1"})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.env["OPENAI_BASE_URL"]+"/chat/completions", strings.NewReader(`{"model":"gpt-gated","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-up.headers
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel() // the client goes away with the upstream still streaming
	resp.Body.Close()
	rs := h.receipts(t) // Close waits for the in-flight call to be recorded
	if len(rs) != 1 {
		t.Fatalf("%d receipts", len(rs))
	}
	if e := sdktest.Field(rs[0], "error"); !strings.HasPrefix(e, "client disconnected before the response ended") {
		t.Fatalf("error %q", e)
	}
	sdktest.Check(t, rs[0], map[string]string{"finish_reason": "error", "output_hash": sdktest.Sha256(`"first "`), "usage_source": "absent"})
}

func TestPassThroughAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		io.WriteString(w, `{"data":[]}`)
	}))
	defer srv.Close()
	h := newHarness(t, map[string]string{"openai": srv.URL + "/v1"})
	resp, err := http.Get(h.env["OPENAI_BASE_URL"] + "/models?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(h.gw.URL() + "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "/openai, /anthropic or /gemini") {
		t.Fatalf("unknown route: %d %q", resp.StatusCode, b)
	}
	if err := h.gw.Close(); err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || paths[0] != "GET /v1/models?limit=2" {
		t.Fatalf("upstream saw %v", paths)
	}
	if _, ok, _ := h.st.Find(trace); ok {
		t.Fatal("a pass-through request wrote a receipt")
	}
	if s := h.gw.Stats(); s.Requests != 2 || s.ModelCalls != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestUpstreamsFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"ASSAY_UPSTREAM_OPENAI": "http://litellm:4000/v1",
		"ANTHROPIC_BASE_URL":    "https://proxy.example/anthropic",
	}
	got := gateway.UpstreamsFromEnv(func(k string) string { return env[k] })
	want := map[string]string{"openai": "http://litellm:4000/v1", "anthropic": "https://proxy.example/anthropic", "gemini": "https://generativelanguage.googleapis.com"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	st := store.Open(t.TempDir())
	for _, o := range []gateway.Options{
		{Store: st, Upstreams: map[string]string{"openai": "ftp://x"}},
		{Store: st, Upstreams: map[string]string{"mistral": "http://x"}},
		{Store: st, Addr: "256.0.0.1:1"},
		{Store: st, TraceID: "../escape"},
		{},
	} {
		if g, err := gateway.Start(context.Background(), o); err == nil {
			g.Close()
			t.Errorf("options %+v accepted", o)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error: %q", err)
		}
	}
}

// TestMiddlewareBehindGateway: a Go program using the middleware and run
// under the gateway gets one receipt per call, not two, and the marker
// header never reaches the upstream.
func TestMiddlewareBehindGateway(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	mock := mockllm.NewHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(capture.HeaderCaptured))
		mu.Unlock()
		mock.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h := newHarness(t, map[string]string{"anthropic": srv.URL})
	tr, err := capture.NewTransport(capture.Options{Store: h.st, TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []bool{false, true} {
		if _, err := sdktest.Anthropic(context.Background(), sdktest.Call{Base: h.env["ANTHROPIC_BASE_URL"], HTTP: tr.Client(), Key: "k", Model: "claude-" + fmt.Sprint(stream), Prompt: "p", Stream: stream}); err != nil {
			t.Fatal(err)
		}
	}
	rs := h.receipts(t)
	if len(rs) != 2 || sdktest.Field(rs[0], "integration_source") != "assay.middleware.go" || sdktest.Field(rs[1], "integration_source") != "assay.middleware.go" {
		t.Fatalf("%d receipts: %v", len(rs), rs)
	}
	if s := h.gw.Stats(); s.Requests != 2 || s.ModelCalls != 0 {
		t.Fatalf("gateway stats %+v", s)
	}
	if len(seen) != 2 || seen[0] != "" || seen[1] != "" {
		t.Fatalf("upstream saw the marker: %q", seen)
	}
}

// TestCloseCutsStuckStreams: Close waits for in-flight streams up to the
// grace period, then cuts them; the cut call is still recorded, and says why.
func TestCloseCutsStuckStreams(t *testing.T) {
	t.Parallel()
	up := &gatedUpstream{release: make(chan struct{}), headers: make(chan http.Header, 1)}
	srv := httptest.NewServer(up)
	defer srv.Close()
	defer close(up.release)
	st := store.Open(t.TempDir())
	gw, err := gateway.Start(context.Background(), gateway.Options{Store: st, TraceID: trace, GracePeriod: 100 * time.Millisecond,
		Upstreams: map[string]string{"openai": srv.URL + "/v1"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, gw.URL()+"/openai/chat/completions", strings.NewReader(`{"model":"gpt-stuck","stream":true,"messages":[]}`))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-up.headers
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("Close returned after %v, before the grace period", d)
	}
	rs, _, err := st.Read(trace)
	if err != nil || len(rs) != 1 {
		t.Fatalf("%d receipts, %v", len(rs), err)
	}
	if e := sdktest.Field(rs[0], "error"); !strings.HasPrefix(e, "gateway shut down before the response ended") {
		t.Fatalf("error %q", e)
	}
}

// TestEchoedKeyIsScrubbed: an upstream that echoes the caller's key in its
// error message (as some do for a wrong key) does not get it into the store.
func TestEchoedKeyIsScrubbed(t *testing.T) {
	t.Parallel()
	const key = "sk-ant-api03-ECHOED-abcdefghijklmnopqrstuvwxyz"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key %s (bearer %s)"}}`, r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	h := newHarness(t, map[string]string{"anthropic": srv.URL})
	req, _ := http.NewRequest(http.MethodPost, h.env["ANTHROPIC_BASE_URL"]+"/v1/messages", strings.NewReader(`{"model":"claude-k","max_tokens":5,"messages":[]}`))
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Authorization", "Bearer tok-"+key[7:])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), key) {
		t.Fatalf("the client must get the upstream's answer untouched: %d %s", resp.StatusCode, body)
	}
	rs := h.receipts(t)
	if e := sdktest.Field(rs[0], "error"); e != "HTTP 401: invalid x-api-key [redacted] (bearer [redacted])" {
		t.Fatalf("error %q", e)
	}
	p, _, _ := h.st.Find(trace)
	b, _ := os.ReadFile(p)
	if strings.Contains(string(b), "ECHOED") {
		t.Fatal("the key reached the store")
	}
}

// TestEscapedPathKept: a %2F inside a path segment reaches the upstream as
// the caller wrote it.
func TestEscapedPathKept(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.RawPath + " " + r.URL.RawQuery
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	h := newHarness(t, map[string]string{"openai": srv.URL + "/v1"})
	resp, err := http.Get(h.gw.URL() + "/openai/models/meta-llama%2FLlama-3?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if g := <-got; g != "/v1/models/meta-llama%2FLlama-3 x=1" {
		t.Fatalf("upstream saw %q", g)
	}
}

// TestUnprefixedCalls: a client given the gateway's bare URL is routed by
// recognising the call (without doubling OpenAI's /v1).
func TestUnprefixedCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"bare-openai","messages":[{"role":"user","content":"x"}]}`},
		{"/v1/messages", `{"model":"bare-anthropic","max_tokens":9,"messages":[{"role":"user","content":"x"}]}`},
		{"/v1beta/models/bare-gemini:generateContent", `{"contents":[{"parts":[{"text":"x"}]}]}`},
	} {
		req, _ := http.NewRequest(http.MethodPost, h.gw.URL()+c.path, strings.NewReader(c.body))
		req.Header.Set("X-Api-Key", "k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "Synthetic answer to: x") {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, b)
		}
	}
	by := sdktest.ByModel(h.receipts(t))
	for model, prov := range map[string]string{"bare-openai": "openai", "bare-anthropic": "anthropic", "bare-gemini": "google"} {
		if r := by[model]; r == nil || sdktest.Field(r, "provider") != prov || sdktest.Field(r, "output_tokens") != "4" {
			t.Fatalf("%s: %v", model, r)
		}
	}
	if ep := sdktest.Field(by["bare-openai"], "endpoint"); ep != h.mock.URL()+"/v1/chat/completions" {
		t.Fatalf("endpoint %s", ep)
	}
}

// TestContextStopsGateway: cancelling Start's context closes the gateway
// (the run command ties it to its own lifetime).
func TestContextStopsGateway(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := gateway.Start(ctx, gateway.Options{Store: store.Open(t.TempDir()), TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		// An unrouted path is answered by the gateway itself (404), so
		// nothing is forwarded anywhere.
		resp, err := http.Get(gw.URL() + "/no-route")
		if err != nil {
			return // listener closed
		}
		resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("gateway still serving after its context ended")
}
