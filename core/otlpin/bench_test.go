package otlpin

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/assay-dev/assay/core/store"
)

// benchRequest is one OTLP/protobuf request of n chat spans, each in its
// own trace position with distinct ids (so none is a duplicate).
func benchRequest(b *testing.B, batch, n int) []byte {
	return benchRequestSpans(b, batch, batch, n)
}

// benchRequestSpans is n chat spans in OTel trace number trace, with span
// ids unique to batch.
func benchRequestSpans(b *testing.B, trace, batch, n int) []byte {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := 0; i < n; i++ {
		sp := ss.Spans().AppendEmpty()
		var t pcommon.TraceID
		var s pcommon.SpanID
		binary.BigEndian.PutUint64(t[:], uint64(trace)+1)
		binary.BigEndian.PutUint32(s[:4], uint32(batch))
		binary.BigEndian.PutUint32(s[4:], uint32(i)+1)
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

// BenchmarkCollectSpansParallel is the same with 10 requests in flight
// at once, as a Collector's otlp_http exporter sends them (its sending
// queue has 10 consumers by default): concurrent requests share the
// store's fsyncs (group commit), and each answer still waits for its own
// receipts to be durable.
func BenchmarkCollectSpansParallel(b *testing.B) {
	st := store.Open(b.TempDir())
	sink, _ := NewSink(st, "")
	srv, err := Start(context.Background(), "127.0.0.1:0", ServerOptions{Sink: sink})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	const per, clients = 100, 10
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = benchRequestSpans(b, i%64, i, per)
	}
	next := make(chan []byte, len(bodies))
	for _, body := range bodies {
		next <- body
	}
	close(next)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range next {
				resp, err := client.Post(srv.URL()+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
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
