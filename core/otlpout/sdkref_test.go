package otlpout

// The span mapping as it was when otlpout used the OTel SDK (the
// reference the hand-written encoders are compared with in wire_test.go),
// kept verbatim but for its names.

import (
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

// Span builds the span of one receipt.
func sdkSpan(r *canon.Object, c Context, res *resource.Resource) (sdktrace.ReadOnlySpan, error) {
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
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(TraceIDFor(tr)), SpanID: trace.SpanID(SpanIDFor(id)), TraceFlags: trace.FlagsSampled})

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
func sdkResource(service string) *resource.Resource {
	if service == "" {
		service = "assay"
	}
	return resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))
}
