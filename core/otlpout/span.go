// Package otlpout sends receipts to an OpenTelemetry backend: each receipt
// becomes one span with GenAI semantic-convention attributes (semconv
// v1.41.0, the last release that carries the gen_ai keys) plus assay.*
// attributes that lead back to the signed receipt (receipt id, trace id,
// pack id, content hashes).
//
// A span, not a log record: a model call is an operation with a duration
// (latency_ms), the GenAI conventions and the backends (Tempo, Langfuse,
// Honeycomb, Datadog) key on inference spans, and a span can Link to the
// application's own span when the receipt came from OTLP.
//
// Span and trace ids are derived from the receipt (span id: SHA-256 of the
// receipt id; trace id: SHA-256 of the assay trace id), so exporting the
// same pack twice yields the same spans and one run is one trace.
// Prompts, answers, tool arguments and results are never exported, only
// their hashes; error texts are scrubbed of key-shaped strings.
package otlpout

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/version"
)

// Context is what a receipt's span says about where the receipt lives.
type Context struct {
	TraceID        string // assay trace id (a pack's run_id); "" = the receipt's _trace_id
	PackID         string // "" when exported before a pack exists
	PackRootSHA256 string
}

// TraceIDFor is the OTel trace id of an assay trace: the first 16 bytes of
// SHA-256 of its id.
func TraceIDFor(assayTrace string) trace.TraceID {
	h := sha256.Sum256([]byte(assayTrace))
	var t trace.TraceID
	copy(t[:], h[:16])
	return t
}

// SpanIDFor is the OTel span id of a receipt: the first 8 bytes of SHA-256
// of its receipt id.
func SpanIDFor(receiptID string) trace.SpanID {
	h := sha256.Sum256([]byte(receiptID))
	var s trace.SpanID
	copy(s[:], h[:8])
	return s
}

// providerName maps receipt providers to gen_ai.provider.name values.
func providerName(p string) string {
	switch p {
	case "google":
		return "gcp.gemini"
	}
	return p
}

func str(r *canon.Object, k string) string { return r.String(k) }

func intOf(r *canon.Object, k string) (int64, bool) {
	v, ok := r.Get(k)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	case canon.Number:
		var i int64
		if _, err := fmt.Sscan(string(n), &i); err == nil {
			return i, true
		}
	}
	return 0, false
}

// Span builds the span of one receipt.
func Span(r *canon.Object, c Context, res *resource.Resource) (sdktrace.ReadOnlySpan, error) {
	id := str(r, "receipt_id")
	if id == "" {
		return nil, fmt.Errorf("receipt without receipt_id")
	}
	typ := str(r, "type")
	end, ok := receipt.ParseTimestamp(str(r, "timestamp"))
	if !ok {
		return nil, fmt.Errorf("receipt %s has no usable timestamp", id)
	}
	start := end
	if ms, ok := intOf(r, "latency_ms"); ok && ms > 0 && ms < int64(365*24*time.Hour/time.Millisecond) {
		start = end.Add(-time.Duration(ms) * time.Millisecond)
	}
	tr := c.TraceID
	if tr == "" {
		tr = str(r, "_trace_id")
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: TraceIDFor(tr), SpanID: SpanIDFor(id), TraceFlags: trace.FlagsSampled})

	attrs := []attribute.KeyValue{
		attribute.String("assay.receipt_id", id),
		attribute.String("assay.receipt_type", typ),
		attribute.String("assay.trace_id", tr),
	}
	if c.PackID != "" {
		attrs = append(attrs, attribute.String("assay.pack_id", c.PackID))
	}
	if c.PackRootSHA256 != "" {
		attrs = append(attrs, attribute.String("assay.pack_root_sha256", c.PackRootSHA256))
	}
	for _, k := range []string{"input_hash", "output_hash", "content_hash_alg", "usage_source", "integration_source", "callsite_id", "arguments_hash", "result_hash"} {
		if v := str(r, k); v != "" {
			attrs = append(attrs, attribute.String("assay."+k, v))
		}
	}
	name := typ
	kind := trace.SpanKindInternal
	var status sdktrace.Status
	errText := receipt.SecretPattern().ReplaceAllString(str(r, "error"), "[redacted]")
	switch typ {
	case "model_call":
		model := str(r, "model_id")
		op := semconv.GenAIOperationNameChat
		if str(r, "provider") == "google" {
			op = semconv.GenAIOperationNameGenerateContent
		}
		name = op.Value.AsString() + " " + model
		kind = trace.SpanKindClient
		attrs = append(attrs, op, semconv.GenAIProviderNameKey.String(providerName(str(r, "provider"))), semconv.GenAIRequestModel(model))
		if fr := str(r, "finish_reason"); fr != "" && fr != "error" {
			attrs = append(attrs, semconv.GenAIResponseFinishReasons(fr))
		}
		if str(r, "usage_source") == "provider" {
			// Never zeros for absent usage.
			if in, ok := intOf(r, "input_tokens"); ok {
				attrs = append(attrs, semconv.GenAIUsageInputTokens(int(in)))
			}
			if out, ok := intOf(r, "output_tokens"); ok {
				attrs = append(attrs, semconv.GenAIUsageOutputTokens(int(out)))
			}
		}
		if v := str(r, "response_model"); v != "" {
			attrs = append(attrs, semconv.GenAIResponseModel(v))
		}
		if v := str(r, "response_id"); v != "" {
			attrs = append(attrs, semconv.GenAIResponseID(v))
		}
		if v := str(r, "endpoint_hint"); v != "" {
			host := v
			if h, _, ok := strings.Cut(v, ":"); ok {
				host = h
			}
			attrs = append(attrs, semconv.ServerAddress(host))
		}
		if str(r, "api") == "responses" {
			attrs = append(attrs, semconv.OpenAIAPITypeResponses)
		}
		if b, ok := r.Get("stream"); ok {
			if s, ok := b.(bool); ok {
				attrs = append(attrs, semconv.GenAIRequestStream(s))
			}
		}
	case "mcp_tool_call", "capability_use":
		tool := str(r, "tool")
		if tool == "" {
			tool = str(r, "tool_name")
		}
		if tool != "" {
			name = "execute_tool " + tool
			attrs = append(attrs, semconv.GenAIOperationNameExecuteTool, semconv.GenAIToolName(tool))
		}
		if v := str(r, "tool_call_id"); v != "" {
			attrs = append(attrs, semconv.GenAIToolCallID(v))
		}
	}
	if f := str(r, "callsite_file"); f != "" {
		attrs = append(attrs, semconv.CodeFilePath(f))
		if l, ok := intOf(r, "callsite_line"); ok {
			attrs = append(attrs, semconv.CodeLineNumber(int(l)))
		}
	}
	if errText != "" {
		status = sdktrace.Status{Code: codes.Error, Description: errText}
		attrs = append(attrs, semconv.ErrorTypeOther)
	}
	var links []sdktrace.Link
	if t, s := str(r, "otel_trace_id"), str(r, "otel_span_id"); t != "" && s != "" {
		tid, err1 := trace.TraceIDFromHex(t)
		sid, err2 := trace.SpanIDFromHex(s)
		if err1 == nil && err2 == nil {
			links = append(links, sdktrace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})})
		}
	}
	stub := tracetest.SpanStub{
		Name: name, SpanContext: sc, SpanKind: kind, StartTime: start, EndTime: end,
		Attributes: attrs, Links: links, Status: status, Resource: res,
		InstrumentationScope: instrumentation.Scope{Name: "assay", Version: version.Version, SchemaURL: semconv.SchemaURL},
	}
	return stub.Snapshot(), nil
}

// Resource is the resource of exported spans: service.name (default
// "assay") with the semconv v1.41.0 schema URL.
func Resource(service string) *resource.Resource {
	if service == "" {
		service = "assay"
	}
	return resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))
}

// HexTraceID is the OTel trace id of an assay trace as lower hex.
func HexTraceID(assayTrace string) string {
	t := TraceIDFor(assayTrace)
	return hex.EncodeToString(t[:])
}
