package receipt

import (
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

// TestModelCallData: the one model_call form. Empty values become null or
// no field exactly as documented on ModelCall, in the reference's order.
func TestModelCallData(t *testing.T) {
	t.Parallel()
	yes, ms, n := true, int64(420), 2
	x := &canon.Object{}
	x.Set("otel_span_id", "ab")
	cases := []struct {
		name string
		m    ModelCall
		want string
	}{
		{
			name: "unknowns: null, \"\" or no field",
			m:    ModelCall{Provider: "mistral_ai", ModelID: "unknown", UsageSource: "absent", ContentHashAlg: "a", Source: "s"},
			want: `{"provider":"mistral_ai","model_id":"unknown","api":"","stream":null,"input_tokens":0,"output_tokens":0,"total_tokens":0,"usage_source":"absent","latency_ms":null,"finish_reason":"","error":null,"input_hash":null,"output_hash":null,"content_hash_alg":"a","integration_source":"s"}`,
		},
		{
			name: "everything",
			m: ModelCall{Provider: "openai", ModelID: "gpt-4o", API: "chat_completions", Stream: &yes,
				InputTokens: 5, OutputTokens: 2, TotalTokens: 7, UsageSource: "provider", UsageSemantics: "otel", LatencyMS: &ms,
				FinishReason: "stop", Error: "e", InputHash: "i", OutputHash: "o", ContentHashAlg: "a",
				Content:      &ModelContent{Input: []any{"hi"}, System: "sys"},
				MessageCount: &n, Source: "s", Wire: &ModelWire{Endpoint: "https://h/v1", HTTPStatus: 200}, EndpointHint: "h",
				CallsiteID: "c", CallsiteFile: "f.go", CallsiteLine: 9, Extra: x},
			want: `{"provider":"openai","model_id":"gpt-4o","api":"chat_completions","stream":true,"input_tokens":5,"output_tokens":2,"total_tokens":7,"usage_source":"provider","usage_semantics":"otel","latency_ms":420,"finish_reason":"stop","error":"e","input_hash":"i","output_hash":"o","content_hash_alg":"a","input_content":["hi"],"system_content":"sys","output_content":null,"message_count":2,"integration_source":"s","endpoint":"https://h/v1","endpoint_hint":"h","http_status":200,"callsite_id":"c","callsite_file":"f.go","callsite_line":9,"otel_span_id":"ab"}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, err := orderedJSON(c.m.Data())
			if err != nil {
				t.Fatal(err)
			}
			if b != c.want {
				t.Errorf("got  %s\nwant %s", b, c.want)
			}
		})
	}
}

// orderedJSON writes d's members in their order (canon.Marshal sorts them).
func orderedJSON(d *canon.Object) (string, error) {
	s := "{"
	for i, m := range d.Members {
		k, err := canon.Marshal(m.Key)
		if err != nil {
			return "", err
		}
		v, err := canon.Marshal(m.Value)
		if err != nil {
			return "", err
		}
		if i > 0 {
			s += ","
		}
		s += string(k) + ":" + string(v)
	}
	return s + "}", nil
}
