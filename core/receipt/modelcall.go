package receipt

import "github.com/assay-dev/assay/core/canon"

// TypeModelCall is the receipt type of one LLM API call.
const TypeModelCall = "model_call"

// ModelCall is the model_call receipt of one LLM call, with the
// reference's fields (runtime.md §2.2, pack-format.md §1.5) and the content
// hashes of DECISIONS 17. The SDK middleware and gateway (core/capture) and
// the OTLP receiver (core/otlpin) both build it here, so a call has one
// shape whoever records it. Data holds its fields; the store adds
// receipt_id, type and timestamp.
//
// The one form is capture's, whose receipts are cross-verified with the
// reference: error, input_hash and output_hash are always present (null
// when empty); finish_reason is always a string ("" when nobody said);
// api, stream and content_hash_alg are always present; with content opted
// in, input_content and output_content are always present (null when
// there is none) and system_content only when there is a system prompt.
type ModelCall struct {
	Provider string
	ModelID  string
	API      string // chat_completions | responses | messages | generate_content; "" when unknown
	Stream   *bool  // nil: null (the recorder cannot tell)

	InputTokens  int64
	OutputTokens int64
	TotalTokens  int64
	UsageSource  string // provider | partial | absent (DECISIONS 17, 23): never guessed
	// UsageSemantics names a token count whose meaning differs from the
	// reference's ("": no usage_semantics field).
	UsageSemantics string
	LatencyMS      *int64 // nil: null (not derivable)

	FinishReason string
	Error        string // "": null

	InputHash      string // "": null
	OutputHash     string // "": null
	ContentHashAlg string

	// Content is the opted-in prompt and answer (nil: not stored).
	Content *ModelContent

	MessageCount *int // nil: no message_count field (unknown)
	Source       string

	// Wire is the observed HTTP exchange (nil: no endpoint or http_status
	// fields, e.g. a call reported as a span).
	Wire         *ModelWire
	EndpointHint string // "": no endpoint_hint field

	CallsiteID   string // "": no callsite_id field
	CallsiteFile string // "": no callsite_file or callsite_line field
	CallsiteLine int    // written with callsite_file when > 0

	// Extra fields follow the reference's, in their order (e.g. otel_*).
	Extra *canon.Object
}

// ModelContent is the content a model_call stores on explicit opt-in.
type ModelContent struct {
	Input  any // nil: null
	System any // nil: no system_content field
	Output any // nil: null
}

// ModelWire is the HTTP exchange a recorder on the wire saw.
type ModelWire struct {
	Endpoint   string // upstream URL without query or credentials
	HTTPStatus int    // 0 when no response arrived
}

// Data returns the receipt's fields in the reference's order.
func (c *ModelCall) Data() *canon.Object {
	d := &canon.Object{}
	d.Set("provider", c.Provider)
	d.Set("model_id", c.ModelID)
	d.Set("api", c.API)
	if c.Stream != nil {
		d.Set("stream", *c.Stream)
	} else {
		d.Set("stream", nil)
	}
	d.Set("input_tokens", c.InputTokens)
	d.Set("output_tokens", c.OutputTokens)
	d.Set("total_tokens", c.TotalTokens)
	d.Set("usage_source", c.UsageSource)
	if c.UsageSemantics != "" {
		d.Set("usage_semantics", c.UsageSemantics)
	}
	if c.LatencyMS != nil {
		d.Set("latency_ms", *c.LatencyMS)
	} else {
		d.Set("latency_ms", nil)
	}
	d.Set("finish_reason", c.FinishReason)
	d.Set("error", stringOrNil(c.Error))
	d.Set("input_hash", stringOrNil(c.InputHash))
	d.Set("output_hash", stringOrNil(c.OutputHash))
	d.Set("content_hash_alg", c.ContentHashAlg)
	if ct := c.Content; ct != nil {
		d.Set("input_content", ct.Input)
		if ct.System != nil {
			d.Set("system_content", ct.System)
		}
		d.Set("output_content", ct.Output)
	}
	if c.MessageCount != nil {
		d.Set("message_count", *c.MessageCount)
	}
	d.Set("integration_source", c.Source)
	if c.Wire != nil {
		d.Set("endpoint", c.Wire.Endpoint)
	}
	if c.EndpointHint != "" {
		d.Set("endpoint_hint", c.EndpointHint)
	}
	if c.Wire != nil {
		d.Set("http_status", c.Wire.HTTPStatus)
	}
	if c.CallsiteID != "" {
		d.Set("callsite_id", c.CallsiteID)
	}
	if c.CallsiteFile != "" {
		d.Set("callsite_file", c.CallsiteFile)
		if c.CallsiteLine > 0 {
			d.Set("callsite_line", c.CallsiteLine)
		}
	}
	if c.Extra != nil {
		for _, m := range c.Extra.Members {
			d.Set(m.Key, m.Value)
		}
	}
	return d
}
