package otlpin_test

import (
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/provider"
	"github.com/assay-dev/assay/core/otlpin"
)

// TestModelCallSameFormBothProducers: the same call recorded on the wire
// (core/capture, the gateway and SDK middleware) and reported as an OTel
// span (core/otlpin) gives model_call receipts with the same reference
// key set, the same JSON types and the same key order (both are built by
// receipt.ModelCall). Only what one recorder alone can see differs: the
// wire's endpoint and http_status, the span's otel_* extras; and an opted-in
// output_content is the OTel messages (an array) on a span.
func TestModelCallSameFormBothProducers(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	end := start.Add(420 * time.Millisecond)
	cases := []struct {
		name        string
		path        string
		reqBody     string
		respBody    string
		status      int
		attrs       map[string]any
		spanErr     string
		wantFinish  string
		wantSameAPI bool
	}{
		{
			name:     "openai chat",
			path:     "/v1/chat/completions",
			reqBody:  `{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":"hi"}]}`,
			respBody: `{"model":"gpt-4o","choices":[{"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
			status:   200,
			attrs: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
				"gen_ai.request.stream": false, "gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 2,
				"gen_ai.response.finish_reasons": []any{"stop"},
				"gen_ai.input.messages":          `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`,
				"gen_ai.output.messages":         `[{"role":"assistant","parts":[{"type":"text","content":"yo"}],"finish_reason":"stop"}]`,
			},
			wantFinish:  "stop",
			wantSameAPI: true,
		},
		{
			name:     "anthropic failed call, no output",
			path:     "/v1/messages",
			reqBody:  `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
			respBody: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			status:   529,
			attrs: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-x",
				"gen_ai.request.stream": false, "error.type": "overloaded_error",
				"gen_ai.input.messages": `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`,
			},
			spanErr:     "Overloaded",
			wantFinish:  "error",
			wantSameAPI: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, store := range []bool{false, true} {
				wire := captured(t, c.path, c.reqBody, c.respBody, c.status, start, end, store)
				span := fromSpan(t, c.attrs, c.spanErr, start, end, store)

				wk, sk := refKeys(wire, "endpoint", "http_status"), refKeys(span)
				if strings.Join(wk, ",") != strings.Join(sk, ",") {
					t.Fatalf("store=%v key order differs:\n capture %v\n otlpin  %v", store, wk, sk)
				}
				for _, k := range wk {
					wv, _ := wire.Get(k)
					sv, _ := span.Get(k)
					if k == "output_content" && jt(sv) == "array" {
						// known difference: a span's output_content is the
						// gen_ai.output.messages its output_hash covers
						// (content_hash_alg sha256-otel-messages-v1), not
						// the reference's response text
						continue
					}
					if jt(wv) != jt(sv) {
						t.Errorf("store=%v %s: capture %s (%v), otlpin %s (%v)", store, k, jt(wv), wv, jt(sv), sv)
					}
				}
				for _, k := range []string{"provider", "model_id", "input_tokens", "output_tokens", "total_tokens", "usage_source", "latency_ms", "finish_reason", "stream"} {
					wv, _ := wire.Get(k)
					sv, _ := span.Get(k)
					if canonString(t, wv) != canonString(t, sv) {
						t.Errorf("store=%v %s: capture %v, otlpin %v", store, k, wv, sv)
					}
				}
				if f, _ := span.Get("finish_reason"); f != c.wantFinish {
					t.Errorf("finish_reason %v, want %q", f, c.wantFinish)
				}
				if a, _ := span.Get("api"); c.wantSameAPI && a != mustGet(wire, "api") {
					t.Errorf("api: otlpin %v, capture %v", a, mustGet(wire, "api"))
				}
			}
		})
	}
}

func captured(t *testing.T, path, reqBody, respBody string, status int, start, end time.Time, store bool) *canon.Object {
	t.Helper()
	p, api := provider.Detect(path)
	if p == nil {
		t.Fatalf("no provider for %s", path)
	}
	req := p.ParseRequest(api, path, url.Values{}, []byte(reqBody))
	u, _ := url.Parse("https://upstream.example" + path)
	c := capture.Call{
		Req: req, Resp: p.ParseResponse(req, "application/json", []byte(respBody)),
		Start: start, End: end, Status: status, Endpoint: capture.CleanEndpoint(u),
		Source: capture.SourceGateway, StoreContent: store,
	}
	return c.Data()
}

func fromSpan(t *testing.T, attrs map[string]any, errMsg string, start, end time.Time, store bool) *canon.Object {
	t.Helper()
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1, 2, 3})
	sp.SetSpanID(pcommon.SpanID{4, 5, 6})
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	if err := sp.Attributes().FromRaw(attrs); err != nil {
		t.Fatal(err)
	}
	if errMsg != "" {
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage(errMsg)
	}
	res := otlpin.Convert(td, otlpin.Options{StoreContent: store})
	if len(res.Receipts) != 1 {
		t.Fatalf("got %d receipts, want 1", len(res.Receipts))
	}
	return res.Receipts[0].Data
}

// refKeys lists d's keys in order without the span-only extras and the
// given recorder-only keys.
func refKeys(d *canon.Object, drop ...string) []string {
	var ks []string
	for _, m := range d.Members {
		switch {
		case strings.HasPrefix(m.Key, "otel_"), m.Key == "response_model", m.Key == "response_id", m.Key == "conversation_id":
			continue
		}
		if i := sort.SearchStrings(sortedCopy(drop), m.Key); i < len(drop) && sortedCopy(drop)[i] == m.Key {
			continue
		}
		ks = append(ks, m.Key)
	}
	return ks
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// jt is the JSON type of a receipt value.
func jt(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case int, int64, canon.Number:
		return "number"
	case []any:
		return "array"
	case *canon.Object:
		return "object"
	}
	return "other"
}

func canonString(t *testing.T, v any) string {
	t.Helper()
	b, err := canon.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustGet(d *canon.Object, k string) any { v, _ := d.Get(k); return v }
