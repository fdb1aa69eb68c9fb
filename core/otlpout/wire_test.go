package otlpout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// wireReceipts cover every attribute, value type and branch of Span, and
// strings that need escaping or long length prefixes.
var wireReceipts = append(append([]string{}, receipts...),
	`{"receipt_id":"mcr_3","type":"model_call","timestamp":"2026-12-06T10:00:05.123456+00:00","provider":"openai","model_id":"gpt-4.1","api":"responses","stream":true,"response_model":"gpt-4.1-2025","response_id":"resp_1","usage_source":"provider","input_tokens":123456789012,"output_tokens":0,"callsite_file":"app/main.py","callsite_line":42,"callsite_id":"cs_1","latency_ms":7,"_trace_id":"trace_y"}`,
	`{"receipt_id":"mcr_4","type":"model_call","timestamp":"2026-12-06T10:00:06+00:00","provider":"anthropic","model_id":"","stream":false,"error":"line1\nline2\t\"quoted\" \\ \u0001 <tag> & é 日本 \u2028 end","otel_trace_id":"5B8EFFF798038103D269B633813FC60C","otel_span_id":"eee19b7ec3c1b174","_trace_id":"trace_y"}`,
	`{"receipt_id":"cu_1","type":"capability_use","timestamp":"2026-12-06T10:00:07+00:00","tool_name":"shell","tool_call_id":"call_9","result_hash":"sha256:dd","_trace_id":"trace_y"}`,
	`{"receipt_id":"mtc_2","type":"mcp_tool_call","timestamp":"2026-12-06T10:00:08+00:00","otel_trace_id":"00000000000000000000000000000000","otel_span_id":"eee19b7ec3c1b174","_trace_id":"trace_y"}`,
	`{"receipt_id":"mcr_5","type":"model_call","timestamp":"2026-12-06T10:00:09+00:00","provider":"openai","model_id":"`+strings.Repeat("m", 300)+`","error":"`+strings.Repeat("e", 20000)+`","_trace_id":"trace_y"}`,
)

// capture is an OTLP/HTTP endpoint that keeps the raw bodies it gets.
type capture struct {
	mu     sync.Mutex
	bodies [][]byte
	ctypes []string
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, b)
	c.ctypes = append(c.ctypes, r.Header.Get("Content-Type"))
	c.mu.Unlock()
}

func wireSpans(t *testing.T, c Context, n int) ([]*SpanData, []sdktrace.ReadOnlySpan) {
	t.Helper()
	var ours []*SpanData
	var ref []sdktrace.ReadOnlySpan
	res := sdkResource("svc")
	for i := 0; len(ours) < n; i++ {
		s := wireReceipts[i%len(wireReceipts)]
		if i >= len(wireReceipts) {
			s = strings.Replace(s, `"receipt_id":"`, fmt.Sprintf(`"receipt_id":"%d_`, i), 1)
		}
		r := rec(t, s)
		a, errA := Span(r, c)
		b, errB := sdkSpan(r, c, res)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%s: ours %v, SDK %v", s, errA, errB)
		}
		if errA == nil {
			ours = append(ours, a)
			ref = append(ref, b)
		}
	}
	return ours, ref
}

// The hand-written encodings carry exactly what the official exporter
// sent for the same receipts: the protobuf decodes (official generated
// code) to a message proto.Equal to the SDK exporter's, and both
// encodings decode (pdata, the Collector's decoder) to the same traces.
func TestWireMatchesSDKExporter(t *testing.T) {
	t.Parallel()
	for _, n := range []int{len(wireReceipts) - 1, 300} {
		for _, asJSON := range []bool{false, true} {
			ours, ref := wireSpans(t, Context{PackID: "pack_1", PackRootSHA256: strings.Repeat("ab", 32)}, n)

			col := &capture{}
			srv := httptest.NewServer(col)
			opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(srv.URL + "/v1/traces"), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false})}
			if asJSON {
				opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
			}
			exp, err := otlptracehttp.New(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := exp.ExportSpans(context.Background(), ref); err != nil {
				t.Fatal(err)
			}
			_ = exp.Shutdown(context.Background())
			srv.Close()
			if len(col.bodies) != 1 {
				t.Fatalf("%d SDK requests", len(col.bodies))
			}
			sdkBody := col.bodies[0]

			var mine []byte
			if asJSON {
				mine = encodeJSON(Resource{Service: "svc"}, ours)
			} else {
				mine = encodeProto(Resource{Service: "svc"}, ours)
				var a, b coltracepb.ExportTraceServiceRequest
				if err := proto.Unmarshal(mine, &a); err != nil {
					t.Fatalf("official proto decoder refuses ours: %v", err)
				}
				if err := proto.Unmarshal(sdkBody, &b); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(&a, &b) {
					t.Fatalf("n=%d: protobuf differs from the SDK exporter's:\nours %v\nSDK  %v", n, &a, &b)
				}
				if !bytes.Equal(mine, sdkBody) {
					t.Logf("n=%d: same message, different bytes (%d vs %d)", n, len(mine), len(sdkBody))
				}
			}
			decode := func(b []byte) ptrace.Traces {
				t.Helper()
				req := ptraceotlp.NewExportRequest()
				var err error
				if asJSON {
					err = req.UnmarshalJSON(b)
				} else {
					err = req.UnmarshalProto(b)
				}
				if err != nil {
					t.Fatalf("json=%v: pdata refuses: %v\n%.2000s", asJSON, err, b)
				}
				return req.Traces()
			}
			a, b := decode(mine), decode(sdkBody)
			if a.SpanCount() != n || b.SpanCount() != n {
				t.Fatalf("json=%v: %d and %d spans, want %d", asJSON, a.SpanCount(), b.SpanCount(), n)
			}
			compareTraces(t, asJSON, a, b)
		}
	}
}

// compareTraces checks each field the exporter sets, then the whole.
func compareTraces(t *testing.T, asJSON bool, a, b ptrace.Traces) {
	t.Helper()
	ra, rb := a.ResourceSpans().At(0), b.ResourceSpans().At(0)
	if a.ResourceSpans().Len() != 1 || b.ResourceSpans().Len() != 1 || ra.SchemaUrl() != rb.SchemaUrl() || ra.SchemaUrl() != SchemaURL ||
		fmt.Sprint(ra.Resource().Attributes().AsRaw()) != fmt.Sprint(rb.Resource().Attributes().AsRaw()) {
		t.Fatalf("json=%v: resource %v %q vs %v %q", asJSON, ra.Resource().Attributes().AsRaw(), ra.SchemaUrl(), rb.Resource().Attributes().AsRaw(), rb.SchemaUrl())
	}
	sa, sb := ra.ScopeSpans().At(0), rb.ScopeSpans().At(0)
	if sa.Scope().Name() != sb.Scope().Name() || sa.Scope().Version() != sb.Scope().Version() || sa.SchemaUrl() != sb.SchemaUrl() {
		t.Fatalf("json=%v: scope %s/%s %s vs %s/%s %s", asJSON, sa.Scope().Name(), sa.Scope().Version(), sa.SchemaUrl(), sb.Scope().Name(), sb.Scope().Version(), sb.SchemaUrl())
	}
	for i := 0; i < sa.Spans().Len(); i++ {
		x, y := sa.Spans().At(i), sb.Spans().At(i)
		if x.TraceID() != y.TraceID() || x.SpanID() != y.SpanID() || x.ParentSpanID() != y.ParentSpanID() || x.TraceState().AsRaw() != y.TraceState().AsRaw() ||
			x.Flags() != y.Flags() || x.Name() != y.Name() || x.Kind() != y.Kind() || x.StartTimestamp() != y.StartTimestamp() || x.EndTimestamp() != y.EndTimestamp() ||
			x.Status().Code() != y.Status().Code() || x.Status().Message() != y.Status().Message() {
			t.Fatalf("json=%v span %d: %s %v %v %v..%v %v %q flags %d vs %s %v %v %v..%v %v %q flags %d", asJSON, i,
				x.Name(), x.Kind(), x.SpanID(), x.StartTimestamp(), x.EndTimestamp(), x.Status().Code(), x.Status().Message(), x.Flags(),
				y.Name(), y.Kind(), y.SpanID(), y.StartTimestamp(), y.EndTimestamp(), y.Status().Code(), y.Status().Message(), y.Flags())
		}
		if x.Attributes().Len() != y.Attributes().Len() {
			t.Fatalf("span %d: attributes %v vs %v", i, x.Attributes().AsRaw(), y.Attributes().AsRaw())
		}
		j := 0
		x.Attributes().Range(func(k string, v pcommon.Value) bool {
			w, ok := y.Attributes().Get(k)
			if !ok || v.Type() != w.Type() || !v.Equal(w) {
				t.Fatalf("span %d attribute %d %s: %v (%v) vs %v", i, j, k, v.AsRaw(), v.Type(), y.Attributes().AsRaw())
			}
			j++
			return true
		})
		if x.Links().Len() != y.Links().Len() {
			t.Fatalf("span %d: %d links vs %d", i, x.Links().Len(), y.Links().Len())
		}
		for k := 0; k < x.Links().Len(); k++ {
			p, q := x.Links().At(k), y.Links().At(k)
			if p.TraceID() != q.TraceID() || p.SpanID() != q.SpanID() || p.Flags() != q.Flags() || p.Attributes().Len() != q.Attributes().Len() || p.TraceState().AsRaw() != q.TraceState().AsRaw() {
				t.Fatalf("span %d link %d: %v/%v flags %d vs %v/%v flags %d", i, k, p.TraceID(), p.SpanID(), p.Flags(), q.TraceID(), q.SpanID(), q.Flags())
			}
		}
	}
	// And the whole, as the Collector would write it.
	var m ptrace.JSONMarshaler
	ja, _ := m.MarshalTraces(a)
	jb, _ := m.MarshalTraces(b)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("json=%v: traces differ:\nours %.3000s\nSDK  %.3000s", asJSON, ja, jb)
	}
}

// The length prefix of an embedded message longer than 127 bytes is
// written in front of it (the body shifted), at every size class.
func TestProtoLongFields(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 120, 127, 128, 200, 16383, 16384, 70000, 2100000} {
		sp := &SpanData{Name: strings.Repeat("n", n), Attrs: []Attr{{"k", strings.Repeat("v", n)}, {"a", []string{"x", strings.Repeat("y", n)}}}}
		var got coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(encodeProto(Resource{}, []*SpanData{sp}), &got); err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		s := got.ResourceSpans[0].ScopeSpans[0].Spans[0]
		if len(s.Name) != n || len(s.Attributes[0].Value.GetStringValue()) != n || len(s.Attributes[1].Value.GetArrayValue().Values[1].GetStringValue()) != n {
			t.Fatalf("%d: lengths %d %d", n, len(s.Name), len(s.Attributes[0].Value.GetStringValue()))
		}
	}
}

// Invalid UTF-8 (which a proto3 receiver refuses) is replaced, in both
// encodings.
func TestWireInvalidUTF8(t *testing.T) {
	t.Parallel()
	sp := &SpanData{Name: "a\xffb", Attrs: []Attr{{"k", "\xc3("}}}
	var got coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(encodeProto(Resource{}, []*SpanData{sp}), &got); err != nil {
		t.Fatal(err)
	}
	if n := got.ResourceSpans[0].ScopeSpans[0].Spans[0].Name; n != "a\uFFFDb" {
		t.Fatalf("%q", n)
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalJSON(encodeJSON(Resource{}, []*SpanData{sp})); err != nil {
		t.Fatal(err)
	}
	if n := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name(); n != "a\uFFFDb" {
		t.Fatalf("%q", n)
	}
}

func TestDecodeResponse(t *testing.T) {
	t.Parallel()
	resp := &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 3, ErrorMessage: "too old"}}
	b, _ := proto.Marshal(resp)
	if ps, ok := decodeResponseProto(b); !ok || ps.Rejected != 3 || ps.Message != "too old" {
		t.Fatalf("%+v %v", ps, ok)
	}
	if _, ok := decodeResponseProto([]byte{0x0a, 0x05, 1}); ok {
		t.Fatal("truncated message read")
	}
	for _, j := range []string{`{"partialSuccess":{"rejectedSpans":"3","errorMessage":"too old"}}`, `{"partial_success":{"rejected_spans":3,"error_message":"too old"}}`} {
		if ps, ok := decodeResponseJSON([]byte(j)); !ok || ps.Rejected != 3 || ps.Message != "too old" {
			t.Fatalf("%s: %+v %v", j, ps, ok)
		}
	}
	if ps, ok := decodeResponseJSON([]byte(`{}`)); !ok || ps.Rejected != 0 {
		t.Fatal(ps)
	}
}
