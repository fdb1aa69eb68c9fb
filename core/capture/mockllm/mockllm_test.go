package mockllm

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestReplyAndTokens(t *testing.T) {
	t.Parallel()
	if got := Reply("  what  is 2+2? "); got != "Synthetic answer to: what is 2+2?" {
		t.Fatalf("Reply = %q", got)
	}
	if got := Tokens("Synthetic answer to: what is 2+2?"); got != 6 {
		t.Fatalf("Tokens = %d", got)
	}
}

func TestNonStreaming(t *testing.T) {
	t.Parallel()
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	auth := []string{"Authorization", "Bearer k"}
	cases := []struct {
		name, path, body string
		check            func(m map[string]any) bool
	}{
		{"chat", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}`,
			func(m map[string]any) bool {
				c := m["choices"].([]any)[0].(map[string]any)
				u := m["usage"].(map[string]any)
				return c["message"].(map[string]any)["content"] == "Synthetic answer to: hello there" && c["finish_reason"] == "stop" &&
					u["prompt_tokens"] == 4.0 && u["completion_tokens"] == 5.0 && u["total_tokens"] == 9.0
			}},
		{"chat-length", "/v1/chat/completions", `{"model":"gpt-4o","max_tokens":2,"messages":[{"role":"user","content":"hello there"}]}`,
			func(m map[string]any) bool {
				c := m["choices"].([]any)[0].(map[string]any)
				return c["message"].(map[string]any)["content"] == "Synthetic answer" && c["finish_reason"] == "length"
			}},
		{"responses", "/v1/responses", `{"model":"gpt-4o","input":"one two three","instructions":"sys"}`,
			func(m map[string]any) bool {
				u := m["usage"].(map[string]any)
				txt := m["output"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
				return m["status"] == "completed" && txt == "Synthetic answer to: one two three" && u["input_tokens"] == 4.0 && u["output_tokens"] == 6.0
			}},
		{"anthropic", "/v1/messages", `{"model":"claude-x","max_tokens":100,"system":"s1 s2","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`,
			func(m map[string]any) bool {
				u := m["usage"].(map[string]any)
				return m["content"].([]any)[0].(map[string]any)["text"] == "Synthetic answer to: hi" && m["stop_reason"] == "end_turn" && u["input_tokens"] == 3.0 && u["output_tokens"] == 4.0
			}},
		{"gemini", "/v1beta/models/gemini-2.0-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"a b"}]}],"generationConfig":{"maxOutputTokens":3}}`,
			func(m map[string]any) bool {
				c := m["candidates"].([]any)[0].(map[string]any)
				u := m["usageMetadata"].(map[string]any)
				return c["finishReason"] == "MAX_TOKENS" && m["modelVersion"] == "gemini-2.0-flash" && u["promptTokenCount"] == 2.0 && u["candidatesTokenCount"] == 3.0
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := post(t, s.URL()+c.path, c.body, auth...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatal(err)
			}
			if !c.check(m) {
				t.Fatalf("unexpected body: %s", body)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, body := post(t, s.URL()+"/v1/chat/completions", `{"model":"gpt-4o","messages":[]}`)
	if resp.StatusCode != 401 || !strings.Contains(body, "missing API key") {
		t.Fatalf("no key: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, s.URL()+"/v1/messages", `{"model":"claude-error-529","messages":[]}`, "x-api-key", "k")
	if resp.StatusCode != 529 || !strings.Contains(body, `"overloaded_error"`) {
		t.Fatalf("injected: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, s.URL()+"/v1beta/models/gemini-error-429:generateContent", `{"contents":[]}`, "x-goog-api-key", "k")
	if resp.StatusCode != 429 || !strings.Contains(body, "RESOURCE_EXHAUSTED") {
		t.Fatalf("injected: %d %s", resp.StatusCode, body)
	}
	resp, _ = post(t, s.URL()+"/v1/embeddings", `{}`, "x-goog-api-key", "k")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown endpoint: %d", resp.StatusCode)
	}
}

// sseData returns the data payloads of an SSE body.
func sseData(body string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestStreams(t *testing.T) {
	t.Parallel()
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// OpenAI chat: deltas concatenate to the text; usage only when asked.
	resp, body := post(t, s.URL()+"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x y"}]}`, "Authorization", "Bearer k")
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	data := sseData(body)
	if data[len(data)-1] != "[DONE]" {
		t.Fatalf("no [DONE]: %v", data)
	}
	var text strings.Builder
	var usage map[string]any
	for _, d := range data[:len(data)-1] {
		var m struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Choices {
			text.WriteString(c.Delta.Content)
		}
		if m.Usage != nil {
			usage = m.Usage
		}
	}
	if text.String() != "Synthetic answer to: x y" || usage["completion_tokens"] != 5.0 {
		t.Fatalf("text %q usage %v", text.String(), usage)
	}
	// Anthropic: the event names of the real wire format.
	_, body = post(t, s.URL()+"/v1/messages", `{"model":"claude","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"q"}]}`, "x-api-key", "k")
	for _, ev := range []string{"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"} {
		if !strings.Contains(body, "event: "+ev+"\n") {
			t.Fatalf("missing event %s in %s", ev, body)
		}
	}
	// Gemini without alt=sse: a JSON array.
	_, body = post(t, s.URL()+"/v1beta/models/g:streamGenerateContent", `{"contents":[{"parts":[{"text":"q"}]}]}`, "x-goog-api-key", "k")
	var arr []map[string]any
	if err := json.Unmarshal([]byte(body), &arr); err != nil || len(arr) != 4 {
		t.Fatalf("gemini array stream: %v %s", err, body)
	}
	// abort: the connection drops mid-stream.
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-abort","stream":true,"messages":[{"role":"user","content":"a b c d"}]}`))
	req.Header.Set("Authorization", "Bearer k")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r2.Body)
	r2.Body.Close()
	if err == nil {
		t.Fatal("abort model: body read without error")
	}
}
