package otlpout

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/assay-dev/assay/core/canon"
)

func rec(t *testing.T, s string) *canon.Object {
	t.Helper()
	v, err := canon.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*canon.Object)
}

var receipts = []string{
	`{"receipt_id":"mcr_1","type":"model_call","timestamp":"2026-12-06T10:00:01.500000+00:00","provider":"google","model_id":"gemini-2.5","input_tokens":12,"output_tokens":3,"usage_source":"provider","latency_ms":1500,"finish_reason":"stop","error":null,"input_hash":"aa","output_hash":"bb","content_hash_alg":"sha256-jcs-v1","input_content":"TOP SECRET PROMPT","output_content":"SECRET ANSWER","integration_source":"assay.gateway","_trace_id":"trace_x"}`,
	`{"receipt_id":"mcr_2","type":"model_call","timestamp":"2026-12-06T10:00:02+00:00","provider":"openai","model_id":"gpt-4o","input_tokens":0,"output_tokens":0,"usage_source":"absent","latency_ms":20,"finish_reason":"error","error":"401 key sk-abcdefghijklmnopqrstuvwx","endpoint_hint":"127.0.0.1:9999","otel_trace_id":"5b8efff798038103d269b633813fc60c","otel_span_id":"eee19b7ec3c1b174","_trace_id":"trace_x"}`,
	`{"receipt_id":"mtc_1","type":"mcp_tool_call","timestamp":"2026-12-06T10:00:03+00:00","tool":"read_file","arguments_hash":"sha256:cc","arguments":{"path":"/etc/passwd"},"_trace_id":"trace_x"}`,
	`{"receipt_id":"r_1","type":"session_metadata","timestamp":"2026-12-06T10:00:04+00:00","_trace_id":"trace_x"}`,
	`{"type":"model_call"}`,
}

// collector is an OTLP/HTTP endpoint that decodes what it gets with the
// Collector's pdata.
type collector struct {
	mu    sync.Mutex
	spans []ptrace.Span
	ctype string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	req := ptraceotlp.NewExportRequest()
	var err error
	if strings.Contains(r.Header.Get("Content-Type"), "json") {
		err = req.UnmarshalJSON(b)
	} else {
		err = req.UnmarshalProto(b)
	}
	if err != nil || r.URL.Path != "/base/v1/traces" {
		http.Error(w, "bad", 400)
		return
	}
	c.mu.Lock()
	c.ctype = r.Header.Get("Content-Type")
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sp := sss.At(j).Spans()
			for k := 0; k < sp.Len(); k++ {
				c.spans = append(c.spans, sp.At(k))
			}
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	_, _ = w.Write(nil)
}

func attr(sp ptrace.Span, k string) string {
	v, ok := sp.Attributes().Get(k)
	if !ok {
		return "<absent>"
	}
	return v.AsString()
}

func each(t *testing.T) func(func(*canon.Object) error) error {
	return func(fn func(*canon.Object) error) error {
		for _, s := range receipts {
			if err := fn(rec(t, s)); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{false, true} {
		col := &collector{}
		srv := httptest.NewServer(col)
		o := Options{Endpoint: srv.URL + "/base", JSON: asJSON, Getenv: func(string) string { return "" }}
		c := Context{TraceID: "trace_x", PackID: "pack_1", PackRootSHA256: "root"}
		res, err := Export(context.Background(), o, c, each(t))
		srv.Close()
		if err != nil || res.Spans != 4 || res.Skipped != 1 || len(res.OTelTraceIDs) != 1 || res.OTelTraceIDs[0] != HexTraceID("trace_x") {
			t.Fatalf("json=%v: %+v %v", asJSON, res, err)
		}
		if len(col.spans) != 4 || strings.Contains(col.ctype, "json") != asJSON {
			t.Fatalf("json=%v: %d spans, content type %q", asJSON, len(col.spans), col.ctype)
		}
		by := map[string]ptrace.Span{}
		for _, sp := range col.spans {
			by[attr(sp, "assay.receipt_id")] = sp
			// Content never leaves: no prompt, answer or tool arguments.
			for _, v := range sp.Attributes().AsRaw() {
				if s, _ := v.(string); strings.Contains(s, "SECRET") || strings.Contains(s, "passwd") || strings.Contains(s, "sk-abc") {
					t.Fatalf("content or secret exported: %v", sp.Attributes().AsRaw())
				}
			}
			if sp.TraceID() != pcommon.TraceID(TraceIDFor("trace_x")) || attr(sp, "assay.pack_id") != "pack_1" || attr(sp, "assay.trace_id") != "trace_x" {
				t.Fatalf("ids: %v", sp.Attributes().AsRaw())
			}
		}
		g := by["mcr_1"]
		want := map[string]string{
			"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini", "gen_ai.request.model": "gemini-2.5",
			"gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": "3", "gen_ai.response.finish_reasons": `["stop"]`,
			"assay.input_hash": "aa", "assay.output_hash": "bb", "assay.content_hash_alg": "sha256-jcs-v1", "assay.pack_root_sha256": "root",
		}
		for k, v := range want {
			if got := attr(g, k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if g.Name() != "generate_content gemini-2.5" || g.Kind() != ptrace.SpanKindClient || g.SpanID() != pcommon.SpanID(SpanIDFor("mcr_1")) ||
			g.EndTimestamp().AsTime().Sub(g.StartTimestamp().AsTime()).Milliseconds() != 1500 {
			t.Errorf("span %s kind %v times %v..%v", g.Name(), g.Kind(), g.StartTimestamp(), g.EndTimestamp())
		}
		e := by["mcr_2"]
		if attr(e, "gen_ai.usage.input_tokens") != "<absent>" || attr(e, "gen_ai.response.finish_reasons") != "<absent>" ||
			e.Status().Code() != ptrace.StatusCodeError || e.Status().Message() != "401 key [redacted]" || attr(e, "error.type") != "_OTHER" ||
			attr(e, "server.address") != "127.0.0.1" || e.Links().Len() != 1 || e.Links().At(0).TraceID().String() != "5b8efff798038103d269b633813fc60c" {
			t.Errorf("error span: %v status %v %q links %d", e.Attributes().AsRaw(), e.Status().Code(), e.Status().Message(), e.Links().Len())
		}
		tool := by["mtc_1"]
		if tool.Name() != "execute_tool read_file" || attr(tool, "gen_ai.tool.name") != "read_file" || attr(tool, "assay.arguments_hash") != "sha256:cc" {
			t.Errorf("tool span %s %v", tool.Name(), tool.Attributes().AsRaw())
		}
	}
}

func TestExportBadInput(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	if (Options{Getenv: none}).Configured() {
		t.Fatal("configured with nothing set")
	}
	if !(Options{Getenv: func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" {
			return "http://x"
		}
		return ""
	}}).Configured() {
		t.Fatal("per-signal endpoint not seen")
	}
	for _, o := range []Options{
		{Endpoint: "ftp://x", Getenv: none},
		{Endpoint: "http://127.0.0.1:1", Getenv: func(k string) string {
			if k == "OTEL_EXPORTER_OTLP_PROTOCOL" {
				return "grpc"
			}
			return ""
		}},
	} {
		if _, err := NewExporter(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestLive(t *testing.T) {
	t.Parallel()
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	l, err := StartLive(context.Background(), Options{Endpoint: srv.URL + "/base", Getenv: func(string) string { return "" }}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range receipts {
		l.Receipt("trace_live", rec(t, s))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(col.spans) != 4 || l.Queued() != 4 {
		t.Fatalf("%d spans received, %d queued", len(col.spans), l.Queued())
	}
	if col.spans[0].TraceID() != pcommon.TraceID(TraceIDFor("trace_live")) {
		t.Fatal("live spans not in the receipt's trace")
	}
}
