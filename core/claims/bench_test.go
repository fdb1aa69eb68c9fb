package claims

import (
	"fmt"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// BenchmarkEvaluate100k evaluates the reference's four run-pack cards plus
// model_allowlist and token_budget over 100000 receipts.
func BenchmarkEvaluate100k(b *testing.B) {
	rs := make([]*receipt.Receipt, 100000)
	for i := range rs {
		v, err := canon.Decode([]byte(fmt.Sprintf(`{"receipt_id":"r_%012d","type":"model_call","schema_version":"3.0","seq":%d,"timestamp":"2026-01-15T11:59:%02d.%06d+00:00","model_id":"gpt-4o","input_tokens":10,"output_tokens":5,"_trace_id":"t"}`, i, i, i/100000, i%1000000)))
		if err != nil {
			b.Fatal(err)
		}
		rs[i] = v.(*canon.Object)
	}
	cards, err := LoadAll([]string{"receipt_completeness", "no_breakglass", "timestamp_ordering", "schema_consistency", "model_allowlist", "token_budget"})
	if err != nil {
		b.Fatal(err)
	}
	flat := Flatten(cards)
	flat[len(flat)-2].Params["models"] = []any{"gpt-4o"}
	flat[len(flat)-1].Params["max_total_tokens"] = 2000000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := Evaluate(flat, rs, Env{}, "p", "s")
		if err != nil || !v.Passed {
			b.Fatalf("%v %+v", err, v)
		}
	}
}
