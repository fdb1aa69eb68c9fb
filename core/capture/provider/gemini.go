package provider

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/assay-dev/assay/internal/lazyre"
)

// Gemini is Google's Gemini API (generativelanguage) and the same
// generateContent methods under Vertex AI paths.
type Gemini struct{}

// Name implements Provider.
func (Gemini) Name() string { return "google" }

var geminiPath = lazyre.New(`/models/([^/:]+):(generateContent|streamGenerateContent)$`)

// Match implements Provider.
func (Gemini) Match(path string) string {
	if geminiPath().MatchString(path) {
		return "generate_content"
	}
	return ""
}

// ParseRequest implements Provider. The model comes from the path (the
// name the caller passed, without the "models/" prefix).
func (Gemini) ParseRequest(api, path string, query url.Values, body []byte) Request {
	r := Request{Provider: "google", API: api}
	if m := geminiPath().FindStringSubmatch(path); m != nil {
		r.Model = m[1]
		r.Stream = m[2] == "streamGenerateContent"
	}
	o := decodeObject(body)
	if o == nil {
		return r
	}
	contents := get(o, "contents")
	sys := get(o, "systemInstruction")
	if sys == nil {
		sys = get(o, "system_instruction")
	}
	r.MessageCount = countOf(contents)
	r.setInput(contents, sys)
	return r
}

type gmChunk struct {
	Candidates []struct {
		Index   int `json:"index"`
		Content struct {
			Parts []struct {
				Text    *string `json:"text"`
				Thought bool    `json:"thought"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *struct {
		PromptTokenCount     *int64 `json:"promptTokenCount"`
		CandidatesTokenCount *int64 `json:"candidatesTokenCount"`
		TotalTokenCount      *int64 `json:"totalTokenCount"`
	} `json:"usageMetadata"`
	ModelVersion string   `json:"modelVersion"`
	Error        *oaError `json:"error"`
}

// geminiFinish maps Gemini finish reasons as the reference does.
func geminiFinish(s string) string {
	switch s {
	case "", "STOP":
		return "stop"
	case "MAX_TOKENS":
		return "length"
	case "SAFETY":
		return "safety"
	}
	return strings.ToLower(s)
}

// ParseResponse implements Provider.
func (Gemini) ParseResponse(_ Request, ct string, body []byte) Response {
	var r Response
	var chunks []gmChunk
	switch {
	case isSSE(ct, body):
		for _, ev := range SSE(body) {
			var c gmChunk
			if json.Unmarshal(ev.Data, &c) == nil {
				chunks = append(chunks, c)
			}
		}
	case bytes.HasPrefix(bytes.TrimLeft(body, " \r\n\t"), []byte("[")):
		// The REST stream without alt=sse is a JSON array, possibly cut short:
		// decode element by element and keep what arrived whole.
		dec := json.NewDecoder(bytes.NewReader(body))
		if _, err := dec.Token(); err == nil {
			for dec.More() {
				var c gmChunk
				if dec.Decode(&c) != nil {
					break
				}
				chunks = append(chunks, c)
			}
		}
	default:
		var c gmChunk
		if json.Unmarshal(body, &c) == nil {
			chunks = append(chunks, c)
			r.Complete = true
		}
	}
	var t textBuilder
	var finish string
	for _, c := range chunks {
		if c.ModelVersion != "" {
			r.Model = c.ModelVersion
		}
		for _, cand := range c.Candidates {
			if cand.Index != 0 {
				continue
			}
			for _, p := range cand.Content.Parts {
				if p.Text != nil && !p.Thought {
					t.add(*p.Text, true)
				}
			}
			if cand.FinishReason != "" {
				finish = cand.FinishReason
				r.Complete = true
			}
		}
		if u := c.UsageMetadata; u != nil {
			// Each streamed chunk carries the running totals; the last wins.
			setUsage(&r, u.PromptTokenCount, u.CandidatesTokenCount, u.TotalTokenCount)
		}
		if c.Error != nil && c.Error.Message != "" {
			r.Error = c.Error.Message
		}
	}
	t.into(&r)
	r.FinishReason = geminiFinish(finish)
	return r
}
