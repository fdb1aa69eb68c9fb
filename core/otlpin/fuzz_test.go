package otlpin

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/assay-dev/assay/core/receipt"
)

// FuzzDecodeConvert feeds outside bytes through the whole receiver path
// (decode as JSON and as protobuf, map, encode the receipt line): no
// panic, and every receipt made encodes as a pack line.
func FuzzDecodeConvert(f *testing.F) {
	f.Add([]byte(jsonReq))
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(tid(1))
	sp.SetSpanID(sid(1))
	_ = sp.Attributes().FromRaw(map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "x",
		"gen_ai.tool.call.arguments": map[string]any{"a": []any{1, 2.5, true, nil}}, "gen_ai.input.messages": "[1,"})
	pb, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	f.Add(pb)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","attributes":[{"key":"gen_ai.system","value":{"kvlistValue":{}}}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, enc := range []Encoding{EncodingJSON, EncodingProto} {
			td, err := DecodeTraces(b, enc)
			if err != nil {
				continue
			}
			for _, r := range Convert(td, Options{StoreContent: true}).Receipts {
				rec := &receipt.Receipt{}
				rec.Set("receipt_id", r.ID)
				rec.Set("timestamp", r.Timestamp)
				for _, m := range r.Data.Members {
					rec.Set(m.Key, m.Value)
				}
				if _, err := receipt.Line(rec); err != nil {
					// Strings from the wire may hold invalid UTF-8 or lone
					// surrogates; those must be refused, not crash.
					continue
				}
			}
		}
	})
}
