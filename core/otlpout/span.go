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

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// The semantic-convention keys and values used here, as published in
// semconv v1.41.0 (go.opentelemetry.io/otel/semconv/v1.41.0): plain
// constants, so the binaries do not link the OTel SDK for them.
const (
	SchemaURL = "https://opentelemetry.io/schemas/1.41.0"

	keyServiceName        = "service.name"
	keyOperationName      = "gen_ai.operation.name"
	keyProviderName       = "gen_ai.provider.name"
	keyRequestModel       = "gen_ai.request.model"
	keyResponseFinish     = "gen_ai.response.finish_reasons"
	keyUsageInputTokens   = "gen_ai.usage.input_tokens"
	keyUsageOutputTokens  = "gen_ai.usage.output_tokens"
	keyResponseModel      = "gen_ai.response.model"
	keyResponseID         = "gen_ai.response.id"
	keyServerAddress      = "server.address"
	keyOpenAIAPIType      = "openai.api.type"
	keyRequestStream      = "gen_ai.request.stream"
	keyToolName           = "gen_ai.tool.name"
	keyToolCallID         = "gen_ai.tool.call.id"
	keyCodeFilePath       = "code.file.path"
	keyCodeLineNumber     = "code.line.number"
	keyErrorType          = "error.type"
	opChat                = "chat"
	opGenerateContent     = "generate_content"
	opExecuteTool         = "execute_tool"
	apiTypeResponses      = "responses"
	errorTypeOther        = "_OTHER"
	scopeName             = "assay"
	defaultService        = "assay"
	spanFlagsSampledLocal = 0x101 // W3C sampled | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE (parent not remote)
	linkFlagsHasIsRemote  = 0x100 // SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE (not remote, no trace flags)
)

// SpanKind is the OTLP Span.SpanKind enum.
type SpanKind int32

// The span kinds receipts use.
const (
	SpanKindInternal SpanKind = 1
	SpanKindClient   SpanKind = 3
)

// StatusCode is the OTLP Status.StatusCode enum.
type StatusCode int32

// The status codes receipts use (Unset is the zero value).
const (
	StatusUnset StatusCode = 0
	StatusError StatusCode = 2
)

// Attr is one span or resource attribute. Value is a string, int64, bool,
// float64 or []string.
type Attr struct {
	Key   string
	Value any
}

func strAttr(k, v string) Attr       { return Attr{k, v} }
func intAttr(k string, v int64) Attr { return Attr{k, v} }

// Link points at another span (the application's own span of a receipt
// that came from OTLP).
type Link struct {
	TraceID [16]byte
	SpanID  [8]byte
}

// SpanData is the span of one receipt, as it is exported.
type SpanData struct {
	TraceID       [16]byte
	SpanID        [8]byte
	Name          string
	Kind          SpanKind
	Start, End    time.Time
	Attrs         []Attr
	Links         []Link
	StatusCode    StatusCode
	StatusMessage string
}

// Context is what a receipt's span says about where the receipt lives.
type Context struct {
	TraceID        string // assay trace id (a pack's run_id); "" = the receipt's _trace_id
	PackID         string // "" when exported before a pack exists
	PackRootSHA256 string
}

// TraceIDFor is the OTel trace id of an assay trace: the first 16 bytes of
// SHA-256 of its id.
func TraceIDFor(assayTrace string) [16]byte {
	h := sha256.Sum256([]byte(assayTrace))
	var t [16]byte
	copy(t[:], h[:16])
	return t
}

// SpanIDFor is the OTel span id of a receipt: the first 8 bytes of SHA-256
// of its receipt id.
func SpanIDFor(receiptID string) [8]byte {
	h := sha256.Sum256([]byte(receiptID))
	var s [8]byte
	copy(s[:], h[:8])
	return s
}

// idFromHex decodes a W3C trace or span id: exactly 2*len(dst) lower-case
// hex digits, not all zero (what the OTel API accepts).
func idFromHex(dst []byte, h string) bool {
	if len(h) != 2*len(dst) {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	if _, err := hex.Decode(dst, []byte(h)); err != nil {
		return false
	}
	for _, b := range dst {
		if b != 0 {
			return true
		}
	}
	return false
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
func Span(r *canon.Object, c Context) (*SpanData, error) {
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
	sp := &SpanData{TraceID: TraceIDFor(tr), SpanID: SpanIDFor(id), Kind: SpanKindInternal, Start: start, End: end}

	attrs := make([]Attr, 0, 16)
	attrs = append(attrs,
		strAttr("assay.receipt_id", id),
		strAttr("assay.receipt_type", typ),
		strAttr("assay.trace_id", tr),
	)
	if c.PackID != "" {
		attrs = append(attrs, strAttr("assay.pack_id", c.PackID))
	}
	if c.PackRootSHA256 != "" {
		attrs = append(attrs, strAttr("assay.pack_root_sha256", c.PackRootSHA256))
	}
	for _, k := range []string{"input_hash", "output_hash", "content_hash_alg", "usage_source", "integration_source", "callsite_id", "arguments_hash", "result_hash"} {
		if v := str(r, k); v != "" {
			attrs = append(attrs, strAttr("assay."+k, v))
		}
	}
	name := typ
	errText := receipt.SecretPattern().ReplaceAllString(str(r, "error"), "[redacted]")
	switch typ {
	case "model_call":
		model := str(r, "model_id")
		op := opChat
		if str(r, "provider") == "google" {
			op = opGenerateContent
		}
		name = op + " " + model
		sp.Kind = SpanKindClient
		attrs = append(attrs, strAttr(keyOperationName, op), strAttr(keyProviderName, providerName(str(r, "provider"))), strAttr(keyRequestModel, model))
		if fr := str(r, "finish_reason"); fr != "" && fr != "error" {
			attrs = append(attrs, Attr{keyResponseFinish, []string{fr}})
		}
		if str(r, "usage_source") == "provider" {
			// Never zeros for absent usage.
			if in, ok := intOf(r, "input_tokens"); ok {
				attrs = append(attrs, intAttr(keyUsageInputTokens, in))
			}
			if out, ok := intOf(r, "output_tokens"); ok {
				attrs = append(attrs, intAttr(keyUsageOutputTokens, out))
			}
		}
		if v := str(r, "response_model"); v != "" {
			attrs = append(attrs, strAttr(keyResponseModel, v))
		}
		if v := str(r, "response_id"); v != "" {
			attrs = append(attrs, strAttr(keyResponseID, v))
		}
		if v := str(r, "endpoint_hint"); v != "" {
			host := v
			if h, _, ok := strings.Cut(v, ":"); ok {
				host = h
			}
			attrs = append(attrs, strAttr(keyServerAddress, host))
		}
		if str(r, "api") == "responses" {
			attrs = append(attrs, strAttr(keyOpenAIAPIType, apiTypeResponses))
		}
		if b, ok := r.Get("stream"); ok {
			if s, ok := b.(bool); ok {
				attrs = append(attrs, Attr{keyRequestStream, s})
			}
		}
	case "mcp_tool_call", "capability_use":
		tool := str(r, "tool")
		if tool == "" {
			tool = str(r, "tool_name")
		}
		if tool != "" {
			name = opExecuteTool + " " + tool
			attrs = append(attrs, strAttr(keyOperationName, opExecuteTool), strAttr(keyToolName, tool))
		}
		if v := str(r, "tool_call_id"); v != "" {
			attrs = append(attrs, strAttr(keyToolCallID, v))
		}
	}
	if f := str(r, "callsite_file"); f != "" {
		attrs = append(attrs, strAttr(keyCodeFilePath, f))
		if l, ok := intOf(r, "callsite_line"); ok {
			attrs = append(attrs, intAttr(keyCodeLineNumber, l))
		}
	}
	if errText != "" {
		sp.StatusCode, sp.StatusMessage = StatusError, errText
		attrs = append(attrs, strAttr(keyErrorType, errorTypeOther))
	}
	if t, s := str(r, "otel_trace_id"), str(r, "otel_span_id"); t != "" && s != "" {
		var l Link
		if idFromHex(l.TraceID[:], t) && idFromHex(l.SpanID[:], s) {
			sp.Links = append(sp.Links, l)
		}
	}
	sp.Name, sp.Attrs = name, attrs
	return sp, nil
}

// Resource is what exported spans say about their source: service.name
// (default "assay") with the semconv v1.41.0 schema URL, and the
// instrumentation scope "assay" at this version.
type Resource struct {
	Service string
}

func (r Resource) service() string {
	if r.Service == "" {
		return defaultService
	}
	return r.Service
}

// HexTraceID is the OTel trace id of an assay trace as lower hex.
func HexTraceID(assayTrace string) string {
	t := TraceIDFor(assayTrace)
	return hex.EncodeToString(t[:])
}
