package provider

import (
	"encoding/json"
	"net/url"
	"strings"
)

// OpenAI is OpenAI's chat completions and responses APIs, and every
// OpenAI-compatible server (Azure OpenAI, LiteLLM, vLLM, Ollama...).
type OpenAI struct{}

// Name implements Provider.
func (OpenAI) Name() string { return "openai" }

// Match implements Provider.
func (OpenAI) Match(path string) string {
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return "chat_completions"
	case strings.HasSuffix(path, "/responses"):
		return "responses"
	}
	return ""
}

// ParseRequest implements Provider.
func (OpenAI) ParseRequest(api, _ string, _ url.Values, body []byte) Request {
	r := Request{Provider: "openai", API: api}
	o := decodeObject(body)
	if o == nil {
		return r
	}
	r.Model = o.String("model")
	r.Stream, _ = get(o, "stream").(bool)
	if api == "responses" {
		in := get(o, "input")
		r.MessageCount = countOf(in)
		r.setInput(in, get(o, "instructions"))
		return r
	}
	msgs := get(o, "messages")
	r.MessageCount = countOf(msgs)
	r.setInput(msgs, nil)
	return r
}

// ParseResponse implements Provider.
func (OpenAI) ParseResponse(req Request, ct string, body []byte) Response {
	if req.API == "responses" {
		return parseResponses(ct, body)
	}
	return parseChat(ct, body)
}

type oaUsage struct {
	PromptTokens     *int64 `json:"prompt_tokens"`
	CompletionTokens *int64 `json:"completion_tokens"`
	InputTokens      *int64 `json:"input_tokens"`
	OutputTokens     *int64 `json:"output_tokens"`
	TotalTokens      *int64 `json:"total_tokens"`
}

type oaError struct {
	Message string `json:"message"`
}

type chatBody struct {
	Model   string `json:"model"`
	Choices []struct {
		Index        int                               `json:"index"`
		Message      struct{ Content json.RawMessage } `json:"message"`
		Delta        struct{ Content json.RawMessage } `json:"delta"`
		FinishReason *string                           `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaUsage `json:"usage"`
	Error *oaError `json:"error"`
}

// contentText reads a message content: a string, or an array of parts.
func contentText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var parts []struct {
		Text *string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		ok := false
		for _, p := range parts {
			if p.Text != nil {
				b.WriteString(*p.Text)
				ok = true
			}
		}
		return b.String(), ok
	}
	return "", false
}

func (u *oaUsage) apply(r *Response) {
	if u == nil {
		return
	}
	in, out := u.PromptTokens, u.CompletionTokens
	if in == nil {
		in = u.InputTokens
	}
	if out == nil {
		out = u.OutputTokens
	}
	setUsage(r, in, out, u.TotalTokens)
}

func parseChat(ct string, body []byte) Response {
	var r Response
	var t textBuilder
	apply := func(c *chatBody, stream bool) {
		if c.Model != "" {
			r.Model = c.Model
		}
		for _, ch := range c.Choices {
			if ch.Index != 0 {
				continue
			}
			raw := ch.Message.Content
			if stream {
				raw = ch.Delta.Content
			}
			s, ok := contentText(raw)
			t.add(s, ok)
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				r.FinishReason = *ch.FinishReason
				r.Complete = true
			}
		}
		c.Usage.apply(&r)
		if c.Error != nil && c.Error.Message != "" {
			r.Error = c.Error.Message
		}
	}
	if isSSE(ct, body) {
		for _, ev := range SSE(body) {
			if string(ev.Data) == "[DONE]" {
				r.Complete = true
				continue
			}
			var c chatBody
			if json.Unmarshal(ev.Data, &c) == nil {
				apply(&c, true)
			}
		}
	} else {
		var c chatBody
		if json.Unmarshal(body, &c) == nil {
			apply(&c, false)
			r.Complete = true
		}
	}
	t.into(&r)
	if r.FinishReason == "" {
		r.FinishReason = "stop"
	}
	return r
}

type respBody struct {
	Type     string       `json:"type"`
	Model    string       `json:"model"`
	Status   string       `json:"status"`
	Delta    *string      `json:"delta"`
	Message  string       `json:"message"`
	Response *respBody    `json:"response"`
	Usage    *oaUsage     `json:"usage"`
	Error    *oaError     `json:"error"`
	Output   []respOutput `json:"output"`
}

type respOutput struct {
	Type    string `json:"type"`
	Content []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	} `json:"content"`
}

func (b *respBody) text() (string, bool) {
	var s strings.Builder
	ok := false
	for _, o := range b.Output {
		if o.Type != "message" {
			continue
		}
		for _, c := range o.Content {
			if c.Type == "output_text" && c.Text != nil {
				s.WriteString(*c.Text)
				ok = true
			}
		}
	}
	return s.String(), ok
}

func responsesFinish(status string) string {
	switch status {
	case "completed", "":
		return "stop"
	case "incomplete":
		return "length"
	}
	return status
}

func parseResponses(ct string, body []byte) Response {
	var r Response
	final := func(b *respBody) {
		if b.Model != "" {
			r.Model = b.Model
		}
		if b.Status != "" {
			r.FinishReason = responsesFinish(b.Status)
		}
		b.Usage.apply(&r)
		if b.Error != nil && b.Error.Message != "" {
			r.Error = b.Error.Message
		}
	}
	if isSSE(ct, body) {
		var t textBuilder
		var last *respBody
		for _, ev := range SSE(body) {
			var b respBody
			if json.Unmarshal(ev.Data, &b) != nil {
				continue
			}
			switch {
			case b.Type == "response.output_text.delta" && b.Delta != nil:
				t.add(*b.Delta, true)
			case b.Type == "error":
				r.Error = b.Message
				if b.Error != nil && b.Error.Message != "" {
					r.Error = b.Error.Message
				}
			case b.Response != nil:
				last = b.Response
			}
		}
		if last != nil {
			final(last)
			switch last.Status {
			case "completed", "incomplete", "failed", "cancelled":
				r.Complete = true
			}
			if !t.any {
				s, ok := last.text()
				t.add(s, ok)
			}
		}
		t.into(&r)
	} else {
		var b respBody
		if json.Unmarshal(body, &b) == nil {
			final(&b)
			r.Complete = true
			r.Text, r.HasText = b.text()
		}
	}
	if r.FinishReason == "" {
		r.FinishReason = "stop"
	}
	return r
}
