package otlpin

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
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
	"github.com/assay-dev/assay/core/store"
)

// startReceiver runs a receiver writing to a fresh store.
func startReceiver(t *testing.T, traceID string) (*Server, *store.Store) {
	t.Helper()
	st := store.Open(t.TempDir())
	sink, err := NewSink(st, traceID)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), "127.0.0.1:0", ServerOptions{Sink: sink, MaxBodyBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, st
}

// sdkCalls sends n chat spans and one tool span through the official Go
// SDK and OTLP/HTTP exporter configured with opts.
func sdkCalls(t *testing.T, n int, opts ...otlptracehttp.Option) trace.SpanContext {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sdkCallsTo(t, n, exp)
}

// sdkCallsTo is sdkCalls through any of the SDK's exporters.
func sdkCallsTo(t *testing.T, n int, exp sdktrace.SpanExporter) trace.SpanContext {
	t.Helper()
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("go-agent"))))
	tr := tp.Tracer("go-agent")
	ctx, root := tr.Start(ctx, "invoke_agent planner", trace.WithAttributes(semconv.GenAIOperationNameInvokeAgent))
	for i := 0; i < n; i++ {
		start := time.Now()
		_, sp := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start),
			trace.WithAttributes(semconv.GenAIOperationNameChat, semconv.GenAIProviderNameOpenAI, semconv.GenAIRequestModel("gpt-4o")))
		sp.SetAttributes(semconv.GenAIUsageInputTokens(100+i), semconv.GenAIUsageOutputTokens(10+i),
			semconv.GenAIResponseFinishReasons("stop"),
			attribute.String(string(semconv.GenAIOutputMessagesKey), `[{"role":"assistant","parts":[{"type":"text","content":"ok"}],"finish_reason":"stop"}]`))
		if i == n-1 {
			sp.SetStatus(codes.Error, "upstream 500")
		}
		sp.End(trace.WithTimestamp(start.Add(250 * time.Millisecond)))
	}
	_, tool := tr.Start(ctx, "execute_tool lookup", trace.WithAttributes(semconv.GenAIOperationNameExecuteTool, semconv.GenAIToolName("lookup")))
	tool.End()
	root.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("exporter: %v", err)
	}
	return root.SpanContext()
}

func readTrace(t *testing.T, st *store.Store, trace string) []*canon.Object {
	t.Helper()
	rs, probs, err := st.Read(trace)
	if err != nil || len(probs) > 0 {
		t.Fatalf("read %s: %v %v", trace, err, probs)
	}
	return rs
}

func TestReceiverGoSDK(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		opts []otlptracehttp.Option
	}{
		{"protobuf", nil},
		{"protobuf+gzip", []otlptracehttp.Option{otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
		{"json", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, st := startReceiver(t, "")
			opts := append([]otlptracehttp.Option{otlptracehttp.WithEndpointURL(srv.URL() + "/v1/traces")}, c.opts...)
			root := sdkCalls(t, 3, opts...)
			rs := readTrace(t, st, TraceFor(root.TraceID().String()))
			var calls, tools int
			for _, r := range rs {
				switch r.String("type") {
				case "model_call":
					calls++
					if r.String("provider") != "openai" || r.String("model_id") != "gpt-4o" || r.String("usage_source") != "provider" ||
						r.String("integration_source") != "assay.otlp" || r.String("otel_trace_id") != root.TraceID().String() {
						t.Errorf("model_call fields: %v", r.Members)
					}
					if v, _ := r.Get("latency_ms"); fmt.Sprint(v) != "250" {
						t.Errorf("latency_ms %v", v)
					}
					if r.String("output_hash") == "" || r.String("content_hash_alg") != ContentHashAlg {
						t.Errorf("output hash missing: %v", r.Members)
					}
				case "capability_use":
					tools++
				}
			}
			if calls != 3 || tools != 1 {
				t.Fatalf("got %d model_call and %d capability_use receipts, want 3 and 1", calls, tools)
			}
			if s := srv.Stats(); s.Spans != 5 || s.Receipts != 4 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// jsonReq is an OTLP/JSON request as another SDK writes it: upper-case hex
// ids, int64 as string and as number.
const jsonReq = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"node-app"}}]},
 "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
 "name":"chat m","kind":3,"startTimeUnixNano":"1765015200000000000","endTimeUnixNano":1765015200500000000,
 "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.system","value":{"stringValue":"openai"}},
 {"key":"gen_ai.request.model","value":{"stringValue":"m"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"7"}},
 {"key":"gen_ai.usage.output_tokens","value":{"intValue":3}}],"status":{"code":2,"message":"boom"}}]}]}]}`

func post(t *testing.T, url, ctype, enc string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReceiverJSONHexIDsAndDuplicates(t *testing.T) {
	t.Parallel()
	srv, st := startReceiver(t, "trace_fixed_1")
	for i := 0; i < 2; i++ { // the second delivery is a duplicate
		if code, body := post(t, srv.URL()+"/v1/traces", "application/json", "", []byte(jsonReq)); code != 200 {
			t.Fatalf("status %d %s", code, body)
		}
	}
	rs := readTrace(t, st, "trace_fixed_1")
	if len(rs) != 1 {
		t.Fatalf("%d receipts, want 1 (duplicate delivery dropped)", len(rs))
	}
	r := rs[0]
	if r.String("otel_trace_id") != "5b8efff798038103d269b633813fc60c" || r.String("otel_span_id") != "eee19b7ec3c1b174" {
		t.Fatalf("ids decoded wrong: %s %s", r.String("otel_trace_id"), r.String("otel_span_id"))
	}
	if v, _ := r.Get("latency_ms"); fmt.Sprint(v) != "500" {
		t.Fatalf("latency %v", v)
	}
	if r.String("error") != "boom" || r.String("finish_reason") != "error" || r.String("timestamp") != "2025-12-06T10:00:00.500000+00:00" {
		t.Fatalf("fields %v", r.Members)
	}
	if s := srv.Stats(); s.Duplicates != 1 || s.Receipts != 1 {
		t.Fatalf("stats %+v", s)
	}
	// A new sink (a restarted collector) still sees the stored receipt.
	sink, _ := NewSink(st, "trace_fixed_1")
	td, _ := DecodeTraces([]byte(jsonReq), EncodingJSON)
	ws, err := sink.Write(Convert(td, Options{}).Receipts)
	if err != nil || ws.Written != 0 || ws.Duplicates != 1 {
		t.Fatalf("restart dedupe: %+v %v", ws, err)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestReceiverRefusesGarbage(t *testing.T) {
	t.Parallel()
	srv, _ := startReceiver(t, "")
	bomb := gz(bytes.Repeat([]byte{' '}, 2<<20)) // 2 MiB of spaces > 1 MiB limit after decompression
	cases := []struct {
		name, path, ctype, enc string
		body                   []byte
		code                   int
		msg                    string
	}{
		{"text/plain", "/v1/traces", "text/plain", "", []byte("hi"), 415, "not OTLP"},
		{"bad json", "/v1/traces", "application/json", "", []byte("{"), 400, "not an OTLP ExportTraceServiceRequest"},
		{"bad proto", "/v1/traces", "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, 400, "not an OTLP ExportTraceServiceRequest"},
		{"bad gzip", "/v1/traces", "application/json", "gzip", []byte("plain"), 400, "not gzip"},
		{"brotli", "/v1/traces", "application/json", "br", []byte("{}"), 415, "Content-Encoding"},
		{"too large", "/v1/traces", "application/json", "", bytes.Repeat([]byte{' '}, 1<<20+1), 413, "larger than"},
		{"gzip bomb", "/v1/traces", "application/json", "gzip", bomb, 413, "larger than"},
		{"unknown path", "/v1/profiles", "application/json", "", []byte("{}"), 404, "/v1/traces, /v1/logs and /v1/metrics"},
		{"bad metrics", "/v1/metrics", "application/json", "", []byte("[]"), 400, "ExportMetricsServiceRequest"},
		{"bad logs", "/v1/logs", "application/json", "", []byte("[]"), 400, "ExportLogsServiceRequest"},
	}
	for _, c := range cases {
		code, body := post(t, srv.URL()+c.path, c.ctype, c.enc, c.body)
		if code != c.code || !strings.Contains(body, c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, code, body, c.code, c.msg)
		}
	}
	for _, p := range []string{"/v1/logs", "/v1/metrics"} {
		if code, body := post(t, srv.URL()+p, "application/json", "", []byte(`{}`)); code != 200 {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
}
