package otlpin

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

var (
	t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(1234*time.Millisecond + 567*time.Microsecond)
)

func tid(b byte) pcommon.TraceID { var t pcommon.TraceID; t[15] = b; t[0] = 0xab; return t }
func sid(b byte) pcommon.SpanID  { var s pcommon.SpanID; s[7] = b; s[0] = 0xcd; return s }

// addSpan appends a span with attrs (set via FromRaw) to td.
func addSpan(t *testing.T, td ptrace.Traces, span, parent byte, raw map[string]any) ptrace.Span {
	t.Helper()
	rs := td.ResourceSpans()
	if rs.Len() == 0 {
		r := rs.AppendEmpty()
		r.Resource().Attributes().PutStr("service.name", "billing-agent")
		ss := r.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("@opentelemetry/instrumentation-openai")
		ss.Scope().SetVersion("0.22.0")
	}
	sp := rs.At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	sp.SetTraceID(tid(1))
	sp.SetSpanID(sid(span))
	if parent != 0 {
		sp.SetParentSpanID(sid(parent))
	}
	sp.SetName("chat x")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t1))
	if err := sp.Attributes().FromRaw(raw); err != nil {
		t.Fatal(err)
	}
	return sp
}

func get(t *testing.T, d *canon.Object, k string) any {
	t.Helper()
	v, ok := d.Get(k)
	if !ok {
		t.Fatalf("field %q missing in %v", k, d.Members)
	}
	return v
}

func TestConvertModelCall(t *testing.T) {
	t.Parallel()
	sysMsgs := `[{"type":"text","content":"be brief"}]`
	inMsgs := `[{"role":"user","parts":[{"type":"text","content":"hi"}]},{"role":"assistant","parts":[{"type":"text","content":"yo"}]}]`
	inHash := func() string {
		s, _ := canon.Decode([]byte(sysMsgs))
		m, _ := canon.Decode([]byte(inMsgs))
		o := &canon.Object{}
		o.Set("system", s)
		o.Set("messages", m)
		h, _ := receipt.ContentHash(o)
		return h
	}()
	outStructured := []any{map[string]any{"role": "assistant", "finish_reason": "stop", "parts": []any{map[string]any{"type": "text", "content": "hello"}}}}
	outHash := func() string {
		o := &canon.Object{}
		o.Set("role", "assistant")
		o.Set("finish_reason", "stop")
		p := &canon.Object{}
		p.Set("type", "text")
		p.Set("content", "hello")
		o.Set("parts", []any{p})
		h, _ := receipt.ContentHash([]any{o})
		return h
	}()
	cases := []struct {
		name   string
		attrs  map[string]any
		status ptrace.StatusCode
		msg    string
		want   map[string]any // field -> value (nil = JSON null)
		absent []string
	}{
		{
			name: "current names, content as JSON string and structured",
			attrs: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
				"gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.usage.input_tokens": 1500, "gen_ai.usage.output_tokens": 600,
				"gen_ai.response.finish_reasons": []any{"stop"}, "server.address": "127.0.0.1", "server.port": 8080,
				"gen_ai.system_instructions": sysMsgs, "gen_ai.input.messages": inMsgs, "gen_ai.output.messages": outStructured,
				"gen_ai.response.id": "chatcmpl-1", "openai.api.type": "responses",
			},
			want: map[string]any{
				"provider": "openai", "model_id": "gpt-4o", "response_model": "gpt-4o-2024-08-06", "input_tokens": int64(1500),
				"output_tokens": int64(600), "total_tokens": int64(2100), "usage_source": "provider", "latency_ms": int64(1234),
				"finish_reason": "stop", "error": nil, "input_hash": inHash, "output_hash": outHash, "content_hash_alg": ContentHashAlg,
				"message_count": 2, "integration_source": "assay.otlp", "endpoint_hint": "127.0.0.1:8080", "api": "responses",
				"response_id": "chatcmpl-1", "otel_provider": "openai", "otel_service_name": "billing-agent",
				"otel_scope_name": "@opentelemetry/instrumentation-openai",
			},
			absent: []string{"input_content", "output_content", "usage_semantics"},
		},
		{
			name: "legacy names (gen_ai.system, prompt/completion tokens, llm.*)",
			attrs: map[string]any{
				"gen_ai.system": "Anthropic", "llm.request.type": "chat", "llm.request.model": "claude-x",
				"gen_ai.usage.prompt_tokens": "10", "llm.usage.completion_tokens": 5.0, "llm.response.finish_reason": "end_turn",
				"gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "a", "gen_ai.prompt.1.content": "b",
			},
			want: map[string]any{
				"provider": "anthropic", "model_id": "claude-x", "input_tokens": int64(10), "output_tokens": int64(5),
				"usage_source": "provider", "usage_semantics": "otel", "finish_reason": "end_turn", "message_count": 2,
				"input_hash": nil, "output_hash": nil, "otel_provider": "Anthropic",
				// capture's form (receipt.ModelCall): the recipe and api always
				// present, stream null when the span does not say
				"content_hash_alg": ContentHashAlg, "api": "messages", "stream": nil,
			},
			absent: []string{"endpoint_hint"},
		},
		{
			name: "anthropic with cache tokens: input_tokens without them (ruling 5)",
			attrs: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude",
				"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 7,
				"gen_ai.usage.cache_read.input_tokens": 60, "gen_ai.usage.cache_creation_input_tokens": 30,
			},
			want: map[string]any{
				"input_tokens": int64(10), "total_tokens": int64(17), "cache_read_input_tokens": int64(60),
				"cache_creation_input_tokens": int64(30), "usage_source": "provider",
			},
			absent: []string{"usage_semantics"},
		},
		{
			name:  "no usage: absent with zeros, no finish reason: empty string (capture's form)",
			attrs: map[string]any{"gen_ai.provider.name": "gcp.vertex_ai", "gen_ai.request.model": "gemini-2.5"},
			want: map[string]any{
				"provider": "google", "input_tokens": int64(0), "output_tokens": int64(0), "total_tokens": int64(0),
				"usage_source": "absent", "finish_reason": "", "api": "", "stream": nil,
			},
		},
		{
			name: "one count: partial; gemini finish mapped",
			attrs: map[string]any{"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini",
				"gen_ai.request.model": "gemini", "gen_ai.usage.output_tokens": 3, "gen_ai.response.finish_reasons": `["MAX_TOKENS"]`},
			want: map[string]any{"usage_source": "partial", "output_tokens": int64(3), "finish_reason": "length"},
		},
		{
			name:   "error status: error text, finish error, key redacted",
			attrs:  map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m", "error.type": "RateLimitError"},
			status: ptrace.StatusCodeError,
			msg:    "429 bad key sk-abcdefghijklmnopqrstuvwxyz0123",
			want:   map[string]any{"error": "429 bad key [redacted]", "finish_reason": "error", "provider": "openai"},
		},
		{
			name:  "error.type alone: the type is the error",
			attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "mistral_ai", "gen_ai.request.model": "m", "error.type": "timeout"},
			want:  map[string]any{"error": "timeout", "finish_reason": "error", "provider": "mistral_ai"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			td := ptrace.NewTraces()
			sp := addSpan(t, td, 1, 0, c.attrs)
			sp.Status().SetCode(c.status)
			sp.Status().SetMessage(c.msg)
			res := Convert(td, Options{})
			if len(res.Receipts) != 1 {
				t.Fatalf("got %d receipts, want 1", len(res.Receipts))
			}
			r := res.Receipts[0]
			if r.Type != "model_call" || r.ID != ReceiptID("mcr_", tid(1), sid(1)) || r.Timestamp != "2026-12-06T10:00:01.234567+00:00" {
				t.Fatalf("base fields %q %q %q", r.Type, r.ID, r.Timestamp)
			}
			for k, want := range c.want {
				got := get(t, r.Data, k)
				if n, ok := got.(int); ok {
					got = n
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			for _, k := range c.absent {
				if _, ok := r.Data.Get(k); ok {
					t.Errorf("%s present, want absent", k)
				}
			}
			if got := get(t, r.Data, "otel_trace_id"); got != func() string { x := tid(1); return hex.EncodeToString(x[:]) }() {
				t.Errorf("otel_trace_id %v", got)
			}
		})
	}
}

func TestConvertContentOptIn(t *testing.T) {
	t.Parallel()
	td := ptrace.NewTraces()
	addSpan(t, td, 1, 0, map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m",
		"gen_ai.input.messages": `[{"role":"user","parts":[{"type":"text","content":"secret plan"}]}]`})
	// Default: hashes only, the words never reach the receipt.
	b, _ := canon.Marshal(Convert(td, Options{}).Receipts[0].Data)
	if got := string(b); containsAny(got, "secret plan") {
		t.Fatalf("content stored without opt-in: %s", got)
	}
	b, _ = canon.Marshal(Convert(td, Options{StoreContent: true}).Receipts[0].Data)
	if !containsAny(string(b), "secret plan") {
		t.Fatalf("content not stored with opt-in: %s", b)
	}
}

func containsAny(s, sub string) bool { return strings.Contains(s, sub) }

func TestConvertKindsAndNesting(t *testing.T) {
	t.Parallel()
	td := ptrace.NewTraces()
	// agent (1) > framework chat (2) > http (3) > SDK chat (4); tool (5); embeddings (6); plain (7)
	addSpan(t, td, 1, 0, map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"})
	addSpan(t, td, 2, 1, map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m"})
	addSpan(t, td, 3, 2, map[string]any{"http.request.method": "POST"})
	addSpan(t, td, 4, 3, map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 2})
	addSpan(t, td, 5, 1, map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": "call_1",
		"gen_ai.tool.type": "function", "gen_ai.tool.call.arguments": `{"city":"Paris"}`, "gen_ai.tool.call.result": map[string]any{"temp": 21}})
	addSpan(t, td, 6, 0, map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai", "gen_ai.request.model": "e"})
	addSpan(t, td, 7, 0, map[string]any{"db.system": "postgresql"})
	// A span exported by assay itself is not made into a receipt again.
	addSpan(t, td, 8, 0, map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m", "assay.receipt_id": "mcr_x"})
	res := Convert(td, Options{})
	if res.Spans != 8 || res.Nested != 1 || len(res.Receipts) != 2 || res.Skipped != 6 {
		t.Fatalf("spans %d nested %d receipts %d skipped %d", res.Spans, res.Nested, len(res.Receipts), res.Skipped)
	}
	var mc, cu *Receipt
	for i := range res.Receipts {
		switch res.Receipts[i].Type {
		case "model_call":
			mc = &res.Receipts[i]
		case "capability_use":
			cu = &res.Receipts[i]
		}
	}
	if mc == nil || mc.ID != ReceiptID("mcr_", tid(1), sid(4)) {
		t.Fatalf("kept the wrong inference span: %+v", mc)
	}
	if cu == nil || get(t, cu.Data, "tool") != "get_weather" || get(t, cu.Data, "tool_call_id") != "call_1" {
		t.Fatalf("tool receipt %+v", cu)
	}
	wantArgs, _ := receipt.HashJSON([]byte(`{"city":"Paris"}`))
	wantRes, _ := receipt.HashJSON([]byte(`{"temp":21}`))
	if get(t, cu.Data, "arguments_hash") != wantArgs || get(t, cu.Data, "result_hash") != wantRes {
		t.Fatalf("tool hashes %v %v", get(t, cu.Data, "arguments_hash"), get(t, cu.Data, "result_hash"))
	}
	if _, ok := cu.Data.Get("arguments"); ok {
		t.Fatal("tool arguments stored without opt-in")
	}
}

func TestConvertParentLoopIsBounded(t *testing.T) {
	t.Parallel()
	td := ptrace.NewTraces()
	// Spans that name each other as parents must not hang the walk.
	addSpan(t, td, 1, 2, map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "m"})
	addSpan(t, td, 2, 1, map[string]any{"http.request.method": "POST"})
	res := Convert(td, Options{})
	if res.Spans != 2 {
		t.Fatalf("spans %d", res.Spans)
	}
}

func TestNormalizeProvider(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"openai": "openai", "az.ai.openai": "openai", "azure.ai.openai": "openai", "Anthropic": "anthropic",
		"gcp.gemini": "google", "vertex_ai": "google", "litellm": "litellm", "aws.bedrock": "aws.bedrock",
		"X_AI": "x_ai", "": "unknown",
	} {
		if got := NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q) = %q, want %q", in, got, want)
		}
	}
}
