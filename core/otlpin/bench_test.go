package otlpin

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/assay-dev/assay/core/store"
)

// benchRequest is one OTLP/protobuf request of n chat spans, each in its
// own trace position with distinct ids (so none is a duplicate).
func benchRequest(b *testing.B, batch, n int) []byte {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := 0; i < n; i++ {
		sp := ss.Spans().AppendEmpty()
		var t pcommon.TraceID
		var s pcommon.SpanID
		copy(t[:], fmt.Sprintf("%08d%08d", batch, 0))
		copy(s[:], fmt.Sprintf("%08d", i))
		sp.SetTraceID(t)
		sp.SetSpanID(s)
		sp.SetStartTimestamp(1765015200000000000)
		sp.SetEndTimestamp(1765015200250000000)
		_ = sp.Attributes().FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
			"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20,
			"gen_ai.response.finish_reasons": []any{"stop"}})
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkCollectSpans is spans per second through the receiver into the
// trace store (decode, map, fsync'd append), 100 spans per request as an
// SDK batcher sends them; every span becomes a receipt.
func BenchmarkCollectSpans(b *testing.B) {
	st := store.Open(b.TempDir())
	sink, _ := NewSink(st, "trace_bench_collect")
	srv, err := Start(context.Background(), "127.0.0.1:0", ServerOptions{Sink: sink})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	const per = 100
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = benchRequest(b, i, per)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Post(srv.URL()+"/v1/traces", "application/x-protobuf", bytes.NewReader(bodies[i]))
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", err, resp)
		}
		resp.Body.Close()
	}
	b.StopTimer()
	if got := srv.Stats().Receipts; got != int64(b.N*per) {
		b.Fatalf("%d receipts, want %d", got, b.N*per)
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkConvert is the mapping alone (no HTTP, no disk).
func BenchmarkConvert(b *testing.B) {
	td, err := DecodeTraces(benchRequest(b, 0, 100), EncodingProto)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := len(Convert(td, Options{}).Receipts); n != 100 {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "spans/s")
}
