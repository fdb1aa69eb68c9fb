package otlpout

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

// BenchmarkExportPerReceipt is the export overhead per receipt: building
// its span and sending it over OTLP/HTTP protobuf (512 per request) to a
// loopback endpoint that accepts without decoding.
func BenchmarkExportPerReceipt(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	rs := make([]*canon.Object, 1000)
	for i := range rs {
		v, _ := canon.Decode([]byte(fmt.Sprintf(`{"receipt_id":"mcr_%016d","type":"model_call","timestamp":"2026-12-06T10:00:01.500000+00:00","provider":"openai","model_id":"gpt-4o","input_tokens":12,"output_tokens":3,"usage_source":"provider","latency_ms":1500,"finish_reason":"stop","error":null,"input_hash":"%064d","output_hash":"%064d","content_hash_alg":"sha256-jcs-v1","integration_source":"assay.gateway"}`, i, i, i)))
		rs[i] = v.(*canon.Object)
	}
	o := Options{Endpoint: srv.URL, Getenv: func(string) string { return "" }}
	b.ResetTimer()
	res, err := Export(context.Background(), o, Context{TraceID: "trace_bench", PackID: "pack_bench"}, func(fn func(*canon.Object) error) error {
		for i := 0; i < b.N; i++ {
			if err := fn(rs[i%len(rs)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || res.Spans != b.N {
		b.Fatalf("%+v %v", res, err)
	}
}

// BenchmarkSpan is the receipt-to-span mapping alone.
func BenchmarkSpan(b *testing.B) {
	v, _ := canon.Decode([]byte(`{"receipt_id":"mcr_1","type":"model_call","timestamp":"2026-12-06T10:00:01.500000+00:00","provider":"openai","model_id":"gpt-4o","input_tokens":12,"output_tokens":3,"usage_source":"provider","latency_ms":1500,"finish_reason":"stop","error":null,"input_hash":"aa","output_hash":"bb"}`))
	r := v.(*canon.Object)
	for i := 0; i < b.N; i++ {
		if _, err := Span(r, Context{TraceID: "t"}); err != nil {
			b.Fatal(err)
		}
	}
}
