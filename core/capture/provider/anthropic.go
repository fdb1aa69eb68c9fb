package provider

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Anthropic is Anthropic's messages API.
type Anthropic struct{}

// Name implements Provider.
func (Anthropic) Name() string { return "anthropic" }

// Match implements Provider. OpenAI's assistants API also has paths ending
// in /messages (threads/{id}/messages); those are not Anthropic calls.
func (Anthropic) Match(path string) string {
	if strings.HasSuffix(path, "/messages") && !strings.Contains(path, "/threads/") {
		return "messages"
	}
	return ""
}

// ParseRequest implements Provider.
func (Anthropic) ParseRequest(api, _ string, _ url.Values, body []byte) Request {
	r := Request{Provider: "anthropic", API: api}
	o := decodeObject(body)
	if o == nil {
		return r
	}
	r.Model = o.String("model")
	r.Stream, _ = get(o, "stream").(bool)
	msgs := get(o, "messages")
	r.MessageCount = countOf(msgs)
	r.setInput(msgs, get(o, "system"))
	return r
}

type anUsage struct {
	InputTokens  *int64 `json:"input_tokens"`
	OutputTokens *int64 `json:"output_tokens"`
}

type anMessage struct {
	Type    string `json:"type"`
	Model   string `json:"model"`
	Content []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	} `json:"content"`
	StopReason *string  `json:"stop_reason"`
	Usage      *anUsage `json:"usage"`
	Error      *oaError `json:"error"`
}

type anEvent struct {
	Type    string     `json:"type"`
	Message *anMessage `json:"message"`
	Delta   *struct {
		Type       string  `json:"type"`
		Text       *string `json:"text"`
		StopReason *string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anUsage `json:"usage"`
	Error *oaError `json:"error"`
}

// ParseResponse implements Provider.
func (Anthropic) ParseResponse(_ Request, ct string, body []byte) Response {
	var r Response
	var t textBuilder
	var in, out *int64
	if isSSE(ct, body) {
		for _, ev := range SSE(body) {
			var e anEvent
			if json.Unmarshal(ev.Data, &e) != nil {
				continue
			}
			switch e.Type {
			case "message_start":
				if e.Message != nil {
					r.Model = e.Message.Model
					if u := e.Message.Usage; u != nil {
						in, out = u.InputTokens, u.OutputTokens
					}
				}
			case "content_block_delta":
				if e.Delta != nil && e.Delta.Type == "text_delta" && e.Delta.Text != nil {
					t.add(*e.Delta.Text, true)
				}
			case "message_delta":
				if e.Delta != nil && e.Delta.StopReason != nil {
					r.FinishReason = *e.Delta.StopReason
					r.Complete = true
				}
				if e.Usage != nil {
					if e.Usage.InputTokens != nil {
						in = e.Usage.InputTokens
					}
					if e.Usage.OutputTokens != nil {
						out = e.Usage.OutputTokens
					}
				}
			case "message_stop":
				r.Complete = true
			case "error":
				if e.Error != nil {
					r.Error = e.Error.Message
				}
			}
		}
	} else {
		var m anMessage
		if json.Unmarshal(body, &m) == nil {
			r.Complete = true
			r.Model = m.Model
			for _, c := range m.Content {
				if c.Type == "text" && c.Text != nil {
					t.add(*c.Text, true)
				}
			}
			if m.StopReason != nil {
				r.FinishReason = *m.StopReason
			}
			if m.Usage != nil {
				in, out = m.Usage.InputTokens, m.Usage.OutputTokens
			}
			if m.Error != nil {
				r.Error = m.Error.Message
			}
		}
	}
	setUsage(&r, in, out, nil)
	t.into(&r)
	if r.FinishReason == "" {
		r.FinishReason = "end_turn"
	}
	return r
}
