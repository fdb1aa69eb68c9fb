// Package otlpin turns OpenTelemetry GenAI spans (OTLP) into receipts: an
// inference span (chat, text_completion, generate_content, or legacy
// llm.request.type) becomes a model_call receipt with the reference's
// field names, an execute_tool span a capability_use receipt. Other spans
// (agents, workflows, embeddings, plain HTTP) are not receipts.
//
// The mapping is docs/otel.md's (from shared spec otel-genai.md §2.1 and
// its §6 rulings): current and legacy attribute names are both read;
// usage is recorded as sent (usage_source provider, partial or absent,
// never guessed, DECISIONS 17 and 23); the receipt is a receipt.ModelCall,
// capture's form (an absent finish reason is "", api, stream and
// content_hash_alg always present); content is hashed (content_hash_alg sha256-otel-messages-v1) and stored
// only on explicit opt-in. Receipt ids are derived from the trace and span
// ids, so a span delivered twice (OTLP is at-least-once) yields the same
// id and the Sink drops the copy.
package otlpin

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// IntegrationSource is the integration_source of receipts made from spans
// (DECISIONS 23).
const IntegrationSource = "assay.otlp"

// ContentHashAlg names the hash recipe over the OTel message form (§6.1):
// the input hash is over canonical {"system": ..., "messages": ...}, the
// output hash over canonical gen_ai.output.messages.
const ContentHashAlg = "sha256-otel-messages-v1"

// Receipt is one receipt made from a span, ready for store.Emit.
type Receipt struct {
	Type        string // model_call or capability_use
	ID          string // deterministic: prefix + 16 hex of SHA-256(trace id ‖ span id)
	Timestamp   string // the span's end, in the reference's format
	OTelTraceID string // lower hex
	Data        *canon.Object
}

// Options tune the mapping.
type Options struct {
	// StoreContent keeps the messages themselves (input_content,
	// system_content, output_content) besides their hashes: the user's
	// explicit opt-in (DECISIONS 17).
	StoreContent bool
	// Now stamps receipts whose span has no time at all (default time.Now).
	Now func() time.Time
}

// Result is what Convert made of a batch.
type Result struct {
	Receipts []Receipt
	Spans    int // spans seen
	Skipped  int // spans that are not receipts
	Nested   int // inference spans dropped for an inference descendant
}

type spanKey [24]byte

func keyOf(t pcommon.TraceID, s pcommon.SpanID) spanKey {
	var k spanKey
	copy(k[:16], t[:])
	copy(k[16:], s[:])
	return k
}

type kind int

const (
	kindNone kind = iota
	kindInference
	kindTool
)

// classify says whether a span is a model call, a tool execution or
// neither (§2.1).
func classify(a attrs) kind {
	if _, ok := a.get("assay.receipt_id"); ok {
		// A span assay exported from a receipt (core/otlpout): already
		// evidence. A Collector that fans out to both assay export and
		// assay collect must not turn it into a second receipt.
		return kindNone
	}
	op := strings.ToLower(a.str("gen_ai.operation.name", "llm.request.type"))
	switch op {
	case "chat", "text_completion", "completion", "generate_content":
		return kindInference
	case "execute_tool":
		return kindTool
	case "":
		if a.str("gen_ai.provider.name", "gen_ai.system") != "" &&
			a.str("gen_ai.request.model", "gen_ai.response.model", "llm.request.model", "llm.response.model") != "" {
			return kindInference
		}
	}
	return kindNone
}

// Convert maps the GenAI spans of td to receipts. When an inference span
// has an inference-span descendant in the same batch (a framework span
// over the provider SDK's span), only the descendant, the one closest to
// the wire, is kept.
func Convert(td ptrace.Traces, o Options) Result {
	var res Result
	if o.Now == nil {
		o.Now = time.Now
	}
	type item struct {
		span     ptrace.Span
		resource pcommon.Map
		scope    pcommon.InstrumentationScope
		kind     kind
	}
	var items []item
	parent := map[spanKey]spanKey{}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				res.Spans++
				if !sp.ParentSpanID().IsEmpty() {
					parent[keyOf(sp.TraceID(), sp.SpanID())] = keyOf(sp.TraceID(), sp.ParentSpanID())
				}
				kd := classify(attrs{sp.Attributes()})
				if kd == kindNone {
					res.Skipped++
					continue
				}
				items = append(items, item{sp, rs.Resource().Attributes(), ss.Scope(), kd})
			}
		}
	}
	// Mark every ancestor of an inference span (bounded walk: parent
	// links come from outside and may loop).
	inference := map[spanKey]bool{}
	for _, it := range items {
		if it.kind == kindInference {
			inference[keyOf(it.span.TraceID(), it.span.SpanID())] = true
		}
	}
	hasInferenceBelow := map[spanKey]bool{}
	for k := range inference {
		cur := k
		for step := 0; step < 256; step++ {
			p, ok := parent[cur]
			if !ok {
				break
			}
			hasInferenceBelow[p] = true
			cur = p
		}
	}
	for _, it := range items {
		k := keyOf(it.span.TraceID(), it.span.SpanID())
		switch it.kind {
		case kindInference:
			if hasInferenceBelow[k] {
				res.Nested++
				res.Skipped++
				continue
			}
			res.Receipts = append(res.Receipts, modelCall(it.span, it.resource, it.scope, o))
		case kindTool:
			res.Receipts = append(res.Receipts, toolUse(it.span, it.resource, it.scope, o))
		}
	}
	return res
}

// ReceiptID is prefix + the first 16 hex of SHA-256 over the trace id and
// span id bytes (§6.4).
func ReceiptID(prefix string, t pcommon.TraceID, s pcommon.SpanID) string {
	h := sha256.New()
	h.Write(t[:])
	h.Write(s[:])
	return prefix + hex.EncodeToString(h.Sum(nil))[:16]
}

// NormalizeProvider maps gen_ai.provider.name / gen_ai.system values to
// receipt providers (§2.1): openai, anthropic, google, litellm, else the
// value lower-cased; "" is unknown.
func NormalizeProvider(raw string) string {
	p := strings.ToLower(strings.TrimSpace(raw))
	switch p {
	case "":
		return "unknown"
	case "openai", "azure.ai.openai", "az.ai.openai":
		return "openai"
	case "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "gemini", "vertex_ai", "google.ai.studio":
		return "google"
	}
	return p
}

// geminiFinish maps Gemini's finish reasons as the reference does.
var geminiFinish = map[string]string{"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "safety"}

func times(sp ptrace.Span, now func() time.Time) (ts string, latency *int64) {
	start, end := sp.StartTimestamp(), sp.EndTimestamp()
	switch {
	case end != 0:
		ts = receipt.Timestamp(end.AsTime())
	case start != 0:
		ts = receipt.Timestamp(start.AsTime())
	default:
		ts = receipt.Timestamp(now())
	}
	if start != 0 && end >= start {
		ms := int64(end-start) / int64(time.Millisecond)
		return ts, &ms
	}
	return ts, nil // not derivable: null, never invented
}

// errorText is the span's error (§2.1): status message › exception event
// › error.type; "" when the span did not fail. Key-shaped strings are
// redacted: an exception message can quote a credential.
func errorText(sp ptrace.Span, a attrs) string {
	failed := sp.Status().Code() == ptrace.StatusCodeError
	et := a.str("error.type")
	if !failed && et == "" {
		return ""
	}
	msg := strings.TrimSpace(sp.Status().Message())
	if msg == "" {
		evs := sp.Events()
		for i := 0; i < evs.Len(); i++ {
			if evs.At(i).Name() == "exception" {
				if m := (attrs{evs.At(i).Attributes()}).str("exception.message"); m != "" {
					msg = m
					break
				}
			}
		}
	}
	if msg == "" {
		msg = et
	}
	if msg == "" {
		msg = "error"
	}
	return receipt.SecretPattern().ReplaceAllString(msg, "[redacted]")
}

func setOr(d *canon.Object, k string, v string) {
	if v != "" {
		d.Set(k, v)
	} else {
		d.Set(k, nil)
	}
}

func otelExtras(d *canon.Object, sp ptrace.Span, res pcommon.Map, scope pcommon.InstrumentationScope) {
	t := sp.TraceID()
	s := sp.SpanID()
	d.Set("otel_trace_id", hex.EncodeToString(t[:]))
	d.Set("otel_span_id", hex.EncodeToString(s[:]))
	if p := sp.ParentSpanID(); !p.IsEmpty() {
		d.Set("otel_parent_span_id", hex.EncodeToString(p[:]))
	}
	if n := scope.Name(); n != "" {
		d.Set("otel_scope_name", n)
		if v := scope.Version(); v != "" {
			d.Set("otel_scope_version", v)
		}
	}
	if sn := (attrs{res}).str("service.name"); sn != "" {
		d.Set("otel_service_name", sn)
	}
}

// modelCall maps an inference span to a model_call receipt, built as
// receipt.ModelCall so it has capture's form (one constructor per type):
// api, stream, finish_reason and content_hash_alg are always present,
// finish_reason "" and stream null when the span does not say.
func modelCall(sp ptrace.Span, res pcommon.Map, scope pcommon.InstrumentationScope, o Options) Receipt {
	a := attrs{sp.Attributes()}
	rawProvider := a.str("gen_ai.provider.name", "gen_ai.system")
	provider := NormalizeProvider(rawProvider)
	model := a.str("gen_ai.request.model", "gen_ai.response.model", "llm.request.model", "llm.response.model")
	if model == "" {
		model = "unknown"
	}
	op := a.str("gen_ai.operation.name", "llm.request.type")
	m := &receipt.ModelCall{
		Provider:       provider,
		ModelID:        model,
		API:            apiOf(provider, op, a.str("openai.api.type")),
		ContentHashAlg: ContentHashAlg,
		Source:         IntegrationSource,
	}
	if st, ok := a.boolean("gen_ai.request.stream", "llm.is_streaming", "gen_ai.request.is_stream"); ok {
		m.Stream = &st
	}

	in, inOK := a.int("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens")
	out, outOK := a.int("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens")
	cacheRead, crOK := a.int("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
	cacheCreate, ccOK := a.int("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens")
	if provider == "anthropic" && inOK {
		// §6.5: the reference's Anthropic input_tokens exclude cached
		// tokens, OTel's include them.
		if (crOK || ccOK) && in-cacheRead-cacheCreate >= 0 {
			in -= cacheRead + cacheCreate
		} else {
			m.UsageSemantics = "otel"
		}
	}
	m.UsageSource = "absent"
	switch {
	case inOK && outOK:
		m.UsageSource = "provider"
	case inOK || outOK:
		m.UsageSource = "partial"
	}
	m.InputTokens, m.OutputTokens, m.TotalTokens = in, out, in+out
	ts, latency := times(sp, o.Now)
	m.LatencyMS = latency

	m.Error = errorText(sp, a)
	finish := a.first("gen_ai.response.finish_reasons", "gen_ai.response.finish_reason", "gen_ai.completion.0.finish_reason", "llm.response.finish_reason")
	if provider == "google" {
		if f, ok := geminiFinish[finish]; ok {
			finish = f
		}
	}
	if m.Error != "" {
		finish = "error"
	}
	m.FinishReason = finish

	// Content (§1.4, §6.1): hashed when the span carries it.
	sys, sysOK := a.doc("gen_ai.system_instructions")
	msgs, msgsOK := a.doc("gen_ai.input.messages")
	outMsgs, outOK2 := a.doc("gen_ai.output.messages")
	if sysOK || msgsOK {
		in := &canon.Object{}
		in.Set("system", sys)
		in.Set("messages", msgs)
		m.InputHash, _ = receipt.ContentHash(in)
	}
	if outOK2 {
		m.OutputHash, _ = receipt.ContentHash(outMsgs)
	}
	if o.StoreContent {
		m.Content = &receipt.ModelContent{}
		if msgsOK {
			m.Content.Input = msgs
		}
		if sysOK {
			m.Content.System = sys
		}
		if outOK2 {
			m.Content.Output = outMsgs
		}
	}
	if l, ok := msgs.([]any); msgsOK && ok {
		n := len(l)
		m.MessageCount = &n
	} else if n := legacyPromptCount(a); n > 0 {
		m.MessageCount = &n
	}

	host := a.str("server.address")
	if provider == "openai" && host != "" && !strings.EqualFold(host, "api.openai.com") {
		if port, ok := a.int("server.port"); ok {
			host += ":" + strconv.FormatInt(port, 10)
		}
		m.EndpointHint = host
	}
	if f := a.str("code.file.path", "code.filepath"); f != "" {
		m.CallsiteFile = f
		if l, ok := a.int("code.line.number", "code.lineno"); ok && l > 0 {
			m.CallsiteLine = int(l)
		}
	}

	x := &canon.Object{}
	if rawProvider != "" {
		x.Set("otel_provider", rawProvider)
	}
	if op != "" {
		x.Set("otel_operation", op)
	}
	if rm := a.str("gen_ai.response.model", "llm.response.model"); rm != "" {
		x.Set("response_model", rm)
	}
	if v := a.str("gen_ai.response.id"); v != "" {
		x.Set("response_id", v)
	}
	if v := a.str("gen_ai.conversation.id"); v != "" {
		x.Set("conversation_id", v)
	}
	if crOK {
		x.Set("cache_read_input_tokens", cacheRead)
	}
	if ccOK {
		x.Set("cache_creation_input_tokens", cacheCreate)
	}
	otelExtras(x, sp, res, scope)
	m.Extra = x
	t := sp.TraceID()
	return Receipt{Type: receipt.TypeModelCall, ID: ReceiptID("mcr_", sp.TraceID(), sp.SpanID()), Timestamp: ts, OTelTraceID: hex.EncodeToString(t[:]), Data: m.Data()}
}

// apiOf names the API the way capture does (chat_completions, responses,
// messages, generate_content) when the span's provider and operation tell
// it; "" otherwise.
func apiOf(provider, op, openaiAPI string) string {
	switch {
	case provider == "openai" && strings.EqualFold(openaiAPI, "responses"):
		return "responses"
	case provider == "openai" && op == "chat":
		return "chat_completions"
	case provider == "anthropic" && op == "chat":
		return "messages"
	case provider == "google" && (op == "chat" || op == "generate_content"):
		return "generate_content"
	}
	return ""
}

// legacyPromptCount counts gen_ai.prompt.N.* indices (OpenLLMetry's flat
// content attributes).
func legacyPromptCount(a attrs) int {
	seen := map[string]bool{}
	for k := range a.m.All() {
		rest, ok := strings.CutPrefix(k, "gen_ai.prompt.")
		if !ok {
			continue
		}
		idx, _, ok := strings.Cut(rest, ".")
		if _, err := strconv.Atoi(idx); ok && err == nil {
			seen[idx] = true
		}
	}
	return len(seen)
}

// toolUse maps an execute_tool span to a capability_use receipt; argument
// and result hashes use the MCP tool-call recipe (DECISIONS 19).
func toolUse(sp ptrace.Span, res pcommon.Map, scope pcommon.InstrumentationScope, o Options) Receipt {
	a := attrs{sp.Attributes()}
	d := &canon.Object{}
	name := a.str("gen_ai.tool.name")
	if name == "" {
		name = "unknown"
	}
	d.Set("tool", name)
	if v := a.str("gen_ai.tool.call.id"); v != "" {
		d.Set("tool_call_id", v)
	}
	if v := a.str("gen_ai.tool.type"); v != "" {
		d.Set("tool_type", v)
	}
	ts, latency := times(sp, o.Now)
	if latency != nil {
		d.Set("latency_ms", *latency)
	} else {
		d.Set("latency_ms", nil)
	}
	setOr(d, "error", errorText(sp, a))
	if v, ok := a.doc("gen_ai.tool.call.arguments"); ok {
		if h, err := receipt.HashValue(v); err == nil {
			d.Set("arguments_hash", h)
		}
		if o.StoreContent {
			d.Set("arguments", v)
		}
	}
	if v, ok := a.doc("gen_ai.tool.call.result"); ok {
		if h, err := receipt.HashValue(v); err == nil {
			d.Set("result_hash", h)
		}
		if o.StoreContent {
			d.Set("result", v)
		}
	}
	d.Set("integration_source", IntegrationSource)
	otelExtras(d, sp, res, scope)
	t := sp.TraceID()
	return Receipt{Type: "capability_use", ID: ReceiptID("cap_", sp.TraceID(), sp.SpanID()), Timestamp: ts, OTelTraceID: hex.EncodeToString(t[:]), Data: d}
}
