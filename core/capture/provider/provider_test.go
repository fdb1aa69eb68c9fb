package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func sum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestDetect(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, prov, api string }{
		{"/v1/chat/completions", "openai", "chat_completions"},
		{"/openai/deployments/gpt4/chat/completions", "openai", "chat_completions"},
		{"/v1/responses", "openai", "responses"},
		{"/v1/responses/resp_1", "", ""},
		{"/v1/messages", "anthropic", "messages"},
		{"/v1/messages/count_tokens", "", ""},
		{"/v1/threads/t1/messages", "", ""},
		{"/v1beta/models/gemini-2.0-flash:generateContent", "google", "generate_content"},
		{"/v1/projects/p/locations/l/publishers/google/models/gemini-pro:streamGenerateContent", "google", "generate_content"},
		{"/v1/embeddings", "", ""},
	}
	for _, c := range cases {
		p, api := Detect(c.path)
		name := ""
		if p != nil {
			name = p.Name()
		}
		if name != c.prov || api != c.api {
			t.Errorf("%s: got %q %q, want %q %q", c.path, name, api, c.prov, c.api)
		}
	}
}

func TestParseRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		p     Provider
		api   string
		path  string
		body  string
		model string
		strm  bool
		msgs  int
		canon string
	}{
		{"chat", OpenAI{}, "chat_completions", "/v1/chat/completions",
			`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi é"}]}`, "gpt-4o", true, 1,
			`{"input":[{"content":"hi é","role":"user"}]}`},
		{"responses-items", OpenAI{}, "responses", "/v1/responses",
			`{"model":"o3","input":[{"role":"user","content":[{"type":"input_text","text":"x"}]}],"instructions":"be terse"}`, "o3", false, 1,
			`{"input":[{"content":[{"text":"x","type":"input_text"}],"role":"user"}],"system":"be terse"}`},
		{"anthropic-string-system", Anthropic{}, "messages", "/v1/messages",
			`{"model":"claude","max_tokens":5,"system":"sys","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}`, "claude", false, 3,
			`{"input":[{"content":"a","role":"user"},{"content":"b","role":"assistant"},{"content":"c","role":"user"}],"system":"sys"}`},
		{"gemini-snake", Gemini{}, "generate_content", "/v1beta/models/gemini-x:streamGenerateContent",
			`{"contents":[{"parts":[{"text":"q"}]}],"system_instruction":{"parts":[{"text":"s"}]}}`, "gemini-x", true, 1,
			`{"input":[{"parts":[{"text":"q"}]}],"system":{"parts":[{"text":"s"}]}}`},
		{"numbers-exact", OpenAI{}, "chat_completions", "/v1/chat/completions",
			`{"model":"m","messages":[{"role":"user","content":"n","x":1.0,"y":12345678901234567890}]}`, "m", false, 1,
			`{"input":[{"content":"n","role":"user","x":1.0,"y":12345678901234567890}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.p.ParseRequest(c.api, c.path, nil, []byte(c.body))
			if r.Model != c.model || r.Stream != c.strm || r.MessageCount != c.msgs {
				t.Fatalf("got %+v", r)
			}
			if c.name != "numbers-exact" && r.InputHash != sum(c.canon) {
				t.Fatalf("input hash %s, want sha256(%s)", r.InputHash, c.canon)
			}
			if r.InputHash == "" || len(r.InputHash) != 64 {
				t.Fatalf("input hash %q", r.InputHash)
			}
		})
	}
	if r := (OpenAI{}).ParseRequest("chat_completions", "/", nil, []byte("not json")); r.InputHash != "" || r.Provider != "openai" {
		t.Fatalf("bad body: %+v", r)
	}
}

func TestParseResponse(t *testing.T) {
	t.Parallel()
	type want struct {
		text            string
		hasText         bool
		in, out, total  int64
		usage, complete bool
		finish, err     string
	}
	cases := []struct {
		name string
		p    Provider
		req  Request
		ct   string
		body string
		want want
	}{
		{"chat-json", OpenAI{}, Request{API: "chat_completions"}, "application/json",
			`{"model":"m","choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`,
			want{"hi", true, 3, 1, 4, true, true, "length", ""}},
		{"chat-stream-crlf-no-usage", OpenAI{}, Request{API: "chat_completions"}, "text/event-stream",
			": keepalive\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\ndata: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}},{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: [DONE]\r\n\r\n",
			want{"ab", true, 0, 0, 0, false, true, "stop", ""}},
		{"chat-stream-cut", OpenAI{}, Request{API: "chat_completions"}, "text/event-stream",
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"}}]}\n\ndata: {\"choi",
			want{"par", true, 0, 0, 0, false, false, "stop", ""}},
		{"chat-tool-call-no-text", OpenAI{}, Request{API: "chat_completions"}, "application/json",
			`{"choices":[{"index":0,"message":{"content":null,"tool_calls":[]},"finish_reason":"tool_calls"}]}`,
			want{"", false, 0, 0, 0, false, true, "tool_calls", ""}},
		{"responses-incomplete", OpenAI{}, Request{API: "responses"}, "application/json",
			`{"status":"incomplete","output":[{"type":"reasoning"},{"type":"message","content":[{"type":"output_text","text":"x"},{"type":"output_text","text":"y"}]}],"usage":{"input_tokens":2,"output_tokens":2,"total_tokens":4}}`,
			want{"xy", true, 2, 2, 4, true, true, "length", ""}},
		{"responses-stream-error", OpenAI{}, Request{API: "responses"}, "text/event-stream",
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"q\"}\n\nevent: error\ndata: {\"type\":\"error\",\"message\":\"overloaded\"}\n\n",
			want{"q", true, 0, 0, 0, false, false, "stop", "overloaded"}},
		{"anthropic-stream", Anthropic{}, Request{}, "text/event-stream",
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"he\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"y\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			want{"hey", true, 7, 2, 9, true, true, "max_tokens", ""}},
		{"anthropic-json-default-finish", Anthropic{}, Request{}, "application/json",
			`{"content":[{"type":"text","text":"a"},{"type":"tool_use","id":"t"},{"type":"text","text":"b"}],"usage":{"input_tokens":1,"output_tokens":2}}`,
			want{"ab", true, 1, 2, 3, true, true, "end_turn", ""}},
		{"gemini-array-cut", Gemini{}, Request{}, "application/json",
			`[{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":2,"totalTokenCount":2}},
{"candidates":[{"content":{"parts":[{"text":"b"},{"text":"hidden","thought":true}]}}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":2,"totalTokenCount":4}},
{"candidates":[{"content":{"parts":[{"te`,
			want{"ab", true, 2, 2, 4, true, false, "stop", ""}},
		{"gemini-safety", Gemini{}, Request{}, "application/json",
			`{"candidates":[{"content":{"parts":[]},"finishReason":"SAFETY"}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}}`,
			want{"", false, 5, 0, 5, true, true, "safety", ""}},
		{"gemini-other-finish", Gemini{}, Request{}, "text/event-stream",
			"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"z\"}]},\"finishReason\":\"RECITATION\"}]}\n\n",
			want{"z", true, 0, 0, 0, false, true, "recitation", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.p.ParseResponse(c.req, c.ct, []byte(c.body))
			got := want{r.Text, r.HasText, r.InputTokens, r.OutputTokens, r.TotalTokens, r.UsageSeen, r.Complete, r.FinishReason, r.Error}
			if got != c.want {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"error":{"message":"bad key","type":"x"}}`:                   "bad key",
		`{"type":"error","error":{"type":"x","message":"overloaded"}}`: "overloaded",
		`{"error":"plain"}`:         "plain",
		`{"message":"top"}`:         "top",
		"upstream said no":          "upstream said no",
		strings.Repeat("x", 300):    strings.Repeat("x", 200) + "…",
		`{"error":{"code":500}}   `: `{"error":{"code":500}}`,
	} {
		if got := ErrorText([]byte(body)); got != want {
			t.Errorf("%.40s: %q, want %q", body, got, want)
		}
	}
}

func TestOutputHash(t *testing.T) {
	t.Parallel()
	if got := OutputHash("a\"b"); got != sum(`"a\"b"`) {
		t.Fatalf("OutputHash = %s", got)
	}
}

// FuzzParse: no body, however broken, makes a parser panic.
func FuzzParse(f *testing.F) {
	f.Add("text/event-stream", "data: {\"choices\":[{\"index\":0}]}\n\n")
	f.Add("application/json", `[{"candidates":[`)
	f.Add("", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":null}\n\n")
	f.Fuzz(func(t *testing.T, ct, body string) {
		for _, p := range All {
			for _, api := range []string{"chat_completions", "responses", "messages", "generate_content"} {
				p.ParseResponse(Request{API: api}, ct, []byte(body))
				p.ParseRequest(api, "/models/x:generateContent", nil, []byte(body))
			}
		}
		SSE([]byte(body))
		ErrorText([]byte(body))
	})
}
