// Package provider knows the wire formats of the LLM APIs assay captures:
// OpenAI chat completions and responses (and OpenAI-compatible servers),
// Anthropic messages, and Google Gemini generateContent /
// streamGenerateContent. Each provider recognises a request by its path,
// reads what was sent (model, stream flag, messages) and reads what came
// back (text, usage, finish reason) from a JSON body, an SSE stream or
// Gemini's JSON-array stream.
//
// Content hashes follow DECISIONS 17 (content_hash_alg "sha256-jcs-v1"):
//
//   - input_hash is the full hex SHA-256 of the canonical JSON (core/canon)
//     of the object {"input": X, "system": S}, where X is what was sent as
//     the conversation exactly as decoded from the request body (OpenAI
//     chat: messages; responses: input; Anthropic: messages; Gemini:
//     contents) and S is the separate system prompt (responses:
//     instructions; Anthropic: system; Gemini: systemInstruction). "system"
//     is left out when the request has none.
//   - output_hash is the hex SHA-256 of the canonical JSON of the response
//     text as one string (the first choice / the joined text blocks or
//     parts / the concatenated stream deltas); null when there is no text.
package provider

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// Request is what a recognised model call sent.
type Request struct {
	Provider     string // openai | anthropic | google (receipt "provider")
	API          string // chat_completions | responses | messages | generate_content
	Model        string
	Stream       bool
	MessageCount int
	InputHash    string // "" when the body could not be read
	Input        any    // the conversation as sent (decoded), for opt-in content storage
	System       any    // the separate system prompt as sent, nil if none
}

// setInput records what was sent and its hash.
func (r *Request) setInput(input, system any) {
	r.Input, r.System = input, system
	r.InputHash = inputHash(input, system)
}

// Response is what came back, as far as it was seen.
type Response struct {
	Text         string
	HasText      bool
	InputTokens  int64
	OutputTokens int64
	TotalTokens  int64
	UsageSeen    bool // the provider sent usage (usage_source "provider")
	FinishReason string
	Model        string // as the server reported it
	Error        string // an error the body itself reported (e.g. a stream error event)
	Complete     bool   // the body reached its natural end (a whole JSON body, or a stream's final event)
}

// Provider is one API family.
type Provider interface {
	// Name is the receipt's provider value.
	Name() string
	// Match returns the API of a POST to path (any gateway prefix already
	// removed), or "" when this provider does not capture it.
	Match(path string) string
	// ParseRequest reads the request body of a matched call.
	ParseRequest(api, path string, query url.Values, body []byte) Request
	// ParseResponse reads a response body (JSON, SSE or a JSON-array
	// stream), complete or cut short.
	ParseResponse(req Request, contentType string, body []byte) Response
}

// All lists the providers in detection order.
var All = []Provider{OpenAI{}, Anthropic{}, Gemini{}}

// ByName returns the provider called name (openai, anthropic, google).
func ByName(name string) Provider {
	for _, p := range All {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// Detect finds the provider and API of a POST to path, or nil.
func Detect(path string) (Provider, string) {
	for _, p := range All {
		if api := p.Match(path); api != "" {
			return p, api
		}
	}
	return nil, ""
}

// inputHash hashes {"input": input, "system": system} (system omitted when
// nil) per the sha256-jcs-v1 recipe.
func inputHash(input, system any) string {
	o := &canon.Object{}
	o.Set("input", input)
	if system != nil {
		o.Set("system", system)
	}
	h, err := receipt.ContentHash(o)
	if err != nil {
		return ""
	}
	return h
}

// OutputHash is the output_hash of a response text.
func OutputHash(text string) string {
	h, _ := receipt.ContentHash(text)
	return h
}

// decodeObject decodes body as a JSON object (nil if it is not one).
func decodeObject(body []byte) *canon.Object {
	v, err := canon.Decode(body)
	if err != nil {
		return nil
	}
	o, _ := v.(*canon.Object)
	return o
}

func get(o *canon.Object, key string) any {
	if o == nil {
		return nil
	}
	v, _ := o.Get(key)
	return v
}

func countOf(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case nil:
		return 0
	}
	return 1
}

// Event is one server-sent event.
type Event struct {
	Name string
	Data []byte
}

// SSE splits an event-stream body into events (a trailing event without
// its blank line is kept: a stream cut short still counts what arrived).
func SSE(body []byte) []Event {
	var out []Event
	var cur Event
	var data [][]byte
	flush := func() {
		if data != nil || cur.Name != "" {
			cur.Data = bytes.Join(data, []byte("\n"))
			out = append(out, cur)
		}
		cur, data = Event{}, nil
	}
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(line) == 0:
			flush()
		case line[0] == ':':
		default:
			field, val, _ := bytes.Cut(line, []byte(":"))
			val = bytes.TrimPrefix(val, []byte(" "))
			switch string(field) {
			case "event":
				cur.Name = string(val)
			case "data":
				data = append(data, val)
			}
		}
	}
	flush()
	return out
}

// isSSE reports whether a response is an event stream.
func isSSE(contentType string, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/event-stream") {
		return true
	}
	b := bytes.TrimLeft(body, " \r\n\t")
	return bytes.HasPrefix(b, []byte("data:")) || bytes.HasPrefix(b, []byte("event:"))
}

// ErrorText extracts the message of a vendor error body ({"error":
// {"message": ...}} for all three vendors, or a bare {"message": ...}),
// falling back to the start of the body.
func ErrorText(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		if len(e.Error) > 0 && json.Unmarshal(e.Error, &inner) == nil && inner.Message != "" {
			return inner.Message
		}
		var s string
		if len(e.Error) > 0 && json.Unmarshal(e.Error, &s) == nil && s != "" {
			return s
		}
		if e.Message != "" {
			return e.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// textBuilder accumulates response text and whether any was seen.
type textBuilder struct {
	b   strings.Builder
	any bool
}

func (t *textBuilder) add(s string, present bool) {
	if present {
		t.any = true
		t.b.WriteString(s)
	}
}

func (t *textBuilder) into(r *Response) {
	r.Text, r.HasText = t.b.String(), t.any
}

func setUsage(r *Response, in, out, total *int64) {
	if in == nil && out == nil && total == nil {
		return
	}
	r.UsageSeen = true
	if in != nil {
		r.InputTokens = *in
	}
	if out != nil {
		r.OutputTokens = *out
	}
	if total != nil {
		r.TotalTokens = *total
	} else {
		r.TotalTokens = r.InputTokens + r.OutputTokens
	}
}
