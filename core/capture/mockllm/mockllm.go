// Package mockllm is a deterministic synthetic LLM server. It speaks the
// wire formats of OpenAI chat completions and responses, Anthropic
// messages and Google Gemini generateContent / streamGenerateContent,
// each with streaming (SSE, and Gemini's JSON-array stream), so the real
// SDKs can be pointed at it without an API key.
//
// Everything it answers is derived from the request, so tests can predict
// it exactly:
//
//   - the answer text is Reply(prompt), where prompt is the text of the last
//     user message (or the whole input when it is a plain string);
//   - input tokens are Tokens of all text sent (system prompt included),
//     output tokens are Tokens of the answer; a token is a
//     whitespace-separated word;
//   - a max-tokens limit (max_tokens, max_completion_tokens,
//     max_output_tokens, maxOutputTokens) cuts the answer to that many words
//     and sets the vendor's "length" finish reason;
//   - streams send one word per event (the word plus the space after it).
//
// Error injection, by model name: a model containing "error-NNN" (e.g.
// "gpt-error-500", "claude-error-429") gets HTTP NNN with the vendor's
// error body; "abort" makes the server drop the connection half-way through
// the answer; "slow" waits 20 ms between streamed events.
//
// A request must carry some credential (Authorization, x-api-key,
// x-goog-api-key or ?key=) like the real APIs, or it gets a 401.
package mockllm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/assay-dev/assay/internal/lazyre"
)

// Created is the fixed "created" timestamp of every answer.
const Created = 1700000000

// SlowDelay is the pause between streamed events for "slow" models.
const SlowDelay = 20 * time.Millisecond

// Reply returns the answer text the server gives to prompt (before any
// max-tokens cut).
func Reply(prompt string) string {
	return strings.Join(strings.Fields("Synthetic answer to: "+prompt), " ")
}

// Tokens counts tokens the way the server does: whitespace-separated words.
func Tokens(s string) int { return len(strings.Fields(s)) }

// Server is a running synthetic LLM server.
type Server struct {
	srv      *http.Server
	ln       net.Listener
	url      string
	requests atomic.Int64
}

// Start listens on addr ("" or ":0" style addresses pick a free loopback
// port) and serves until Close.
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mock LLM server: listen on %s: %w", addr, err)
	}
	s := &Server{ln: ln, url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Requests counts the requests the server has answered or is answering.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops the server, dropping open connections.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// Env returns KEY=VALUE lines that point the official SDKs (Go, JS,
// Python) straight at this server, with placeholder API keys.
func (s *Server) Env() []string { return EnvFor(s.url) }

// EnvFor is Env for a server at base.
func EnvFor(base string) []string {
	return []string{
		"OPENAI_BASE_URL=" + base + "/v1",
		"OPENAI_API_KEY=mock-key",
		"ANTHROPIC_BASE_URL=" + base,
		"ANTHROPIC_API_KEY=mock-key",
		"GOOGLE_GEMINI_BASE_URL=" + base,
		"GEMINI_API_KEY=mock-key",
	}
}

// Handler returns the server's HTTP handler (usable with httptest).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		serve(w, r)
	})
}

// NewHandler returns a handler without a Server (for httptest).
func NewHandler() http.Handler { return (&Server{}).Handler() }

var geminiPath = lazyre.New(`/models/([^/:]+):(generateContent|streamGenerateContent)$`)

func serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	var api string
	var gemModel string
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
		api = "chat"
	case strings.HasSuffix(p, "/responses"):
		api = "responses"
	case strings.HasSuffix(p, "/messages"):
		api = "anthropic"
	default:
		if m := geminiPath().FindStringSubmatch(p); m != nil {
			api, gemModel = "gemini", m[1]
			if m[2] == "streamGenerateContent" {
				api = "gemini-stream"
			}
		}
	}
	if api == "" || r.Method != http.MethodPost {
		writeErr(w, "chat", http.StatusNotFound, "no such endpoint: "+r.Method+" "+p)
		return
	}
	if r.Header.Get("Authorization") == "" && r.Header.Get("X-Api-Key") == "" && r.Header.Get("X-Goog-Api-Key") == "" && r.URL.Query().Get("key") == "" {
		writeErr(w, api, http.StatusUnauthorized, "missing API key (any value works with the mock server)")
		return
	}
	var body map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		writeErr(w, api, http.StatusBadRequest, "request body is not a JSON object: "+err.Error())
		return
	}
	req := parse(api, body)
	if gemModel != "" {
		req.model = gemModel
	}
	if req.model == "" && !strings.HasPrefix(api, "gemini") {
		writeErr(w, api, http.StatusBadRequest, "model is required")
		return
	}
	if m := errModel().FindStringSubmatch(req.model); m != nil {
		code, _ := strconv.Atoi(m[1])
		if code >= 400 && code <= 599 {
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			writeErr(w, api, code, fmt.Sprintf("injected error %d for model %s", code, req.model))
			return
		}
	}
	req.id = idFrom(body)
	a := answer(req)
	if api == "gemini-stream" && r.URL.Query().Get("alt") == "sse" {
		req.stream = true
	}
	switch api {
	case "chat":
		chat(w, req, a)
	case "responses":
		responses(w, req, a)
	case "anthropic":
		anthropic(w, req, a)
	case "gemini":
		geminiOnce(w, req, a)
	case "gemini-stream":
		geminiStream(w, req, a, req.stream)
	}
}

var errModel = lazyre.New(`error-(\d{3})`)

// request is what the server took from a request body.
type request struct {
	model     string
	stream    bool
	usage     bool // OpenAI chat: stream_options.include_usage
	maxTokens int  // 0 = none
	prompt    string
	allText   []string
	id        string
}

// reply is a computed answer.
type reply struct {
	words        []string
	text         string
	inTok, outTk int
	truncated    bool
}

func answer(r request) reply {
	words := strings.Fields(Reply(r.prompt))
	a := reply{inTok: Tokens(strings.Join(r.allText, " "))}
	if r.maxTokens > 0 && len(words) > r.maxTokens {
		words = words[:r.maxTokens]
		a.truncated = true
	}
	a.words = words
	a.text = strings.Join(words, " ")
	a.outTk = len(words)
	return a
}

// chunks splits the answer into streamed pieces whose concatenation is text.
func (a reply) chunks() []string {
	out := make([]string, len(a.words))
	for i, w := range a.words {
		if i < len(a.words)-1 {
			w += " "
		}
		out[i] = w
	}
	return out
}

func idFrom(body map[string]any) string {
	b, _ := json.Marshal(body)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])[:24]
}

func str(v any) string { s, _ := v.(string); return s }

// addMessages takes role/content messages (OpenAI chat and responses,
// Anthropic): all their text counts as input, the last user message is
// the prompt.
func (r *request) addMessages(msgs []any) {
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		t := partsText(mm["content"])
		r.allText = append(r.allText, t)
		if str(mm["role"]) == "user" {
			r.prompt = t
		}
	}
}

func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	}
	return 0
}

// partsText joins the text of a content value: a string, or an array of
// parts/blocks carrying "text".
func partsText(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case []any:
		var b []string
		for _, p := range c {
			if m, ok := p.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					b = append(b, t)
				}
			}
		}
		return strings.Join(b, " ")
	case map[string]any: // Gemini systemInstruction {parts:[...]}
		return partsText(c["parts"])
	}
	return ""
}

func parse(api string, b map[string]any) request {
	r := request{model: str(b["model"])}
	r.stream, _ = b["stream"].(bool)
	switch api {
	case "chat":
		if so, ok := b["stream_options"].(map[string]any); ok {
			r.usage, _ = so["include_usage"].(bool)
		}
		r.maxTokens = intOf(b["max_completion_tokens"])
		if r.maxTokens == 0 {
			r.maxTokens = intOf(b["max_tokens"])
		}
		msgs, _ := b["messages"].([]any)
		r.addMessages(msgs)
	case "responses":
		r.maxTokens = intOf(b["max_output_tokens"])
		if ins := str(b["instructions"]); ins != "" {
			r.allText = append(r.allText, ins)
		}
		switch in := b["input"].(type) {
		case string:
			r.prompt = in
			r.allText = append(r.allText, in)
		case []any:
			r.addMessages(in)
		}
	case "anthropic":
		r.maxTokens = intOf(b["max_tokens"])
		if s := partsText(b["system"]); s != "" {
			r.allText = append(r.allText, s)
		}
		msgs, _ := b["messages"].([]any)
		r.addMessages(msgs)
	default: // gemini
		si := b["systemInstruction"]
		if si == nil {
			si = b["system_instruction"]
		}
		if s := partsText(si); s != "" {
			r.allText = append(r.allText, s)
		}
		gc, _ := b["generationConfig"].(map[string]any)
		if gc == nil {
			gc, _ = b["generation_config"].(map[string]any)
		}
		r.maxTokens = intOf(gc["maxOutputTokens"])
		cs, _ := b["contents"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			t := partsText(cm["parts"])
			r.allText = append(r.allText, t)
			if role := str(cm["role"]); role == "user" || role == "" {
				r.prompt = t
			}
		}
	}
	return r
}

// writeErr writes the vendor's error body.
func writeErr(w http.ResponseWriter, api string, code int, msg string) {
	var body any
	switch api {
	case "anthropic":
		typ := "api_error"
		switch code {
		case 400:
			typ = "invalid_request_error"
		case 401:
			typ = "authentication_error"
		case 404:
			typ = "not_found_error"
		case 429:
			typ = "rate_limit_error"
		case 529:
			typ = "overloaded_error"
		}
		body = map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}}
	case "gemini", "gemini-stream":
		status := "INTERNAL"
		switch code {
		case 400:
			status = "INVALID_ARGUMENT"
		case 401:
			status = "UNAUTHENTICATED"
		case 404:
			status = "NOT_FOUND"
		case 429:
			status = "RESOURCE_EXHAUSTED"
		case 503:
			status = "UNAVAILABLE"
		}
		body = map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}}
	default:
		typ := "server_error"
		if code < 500 {
			typ = "invalid_request_error"
		}
		body = map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}}
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// sse writes server-sent events, flushing after each, and honours the
// "abort" and "slow" behaviours.
type sse struct {
	w     http.ResponseWriter
	f     http.Flusher
	slow  bool
	abort int // abort before the event with this index (-1: never)
	n     int
}

func newSSE(w http.ResponseWriter, r request, events int) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	s := &sse{w: w, f: f, slow: strings.Contains(r.model, "slow"), abort: -1}
	if strings.Contains(r.model, "abort") {
		s.abort = events / 2
	}
	return s
}

// send writes one event (event may be "" for data-only events).
func (s *sse) send(event string, data any) {
	if s.n == s.abort {
		panic(http.ErrAbortHandler) // drops the connection mid-stream
	}
	if s.slow && s.n > 0 {
		time.Sleep(SlowDelay)
	}
	s.n++
	var b []byte
	if raw, ok := data.(string); ok {
		b = []byte(raw)
	} else {
		b, _ = json.Marshal(data)
	}
	if event != "" {
		fmt.Fprintf(s.w, "event: %s\n", event)
	}
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	if s.f != nil {
		s.f.Flush()
	}
}

func abortOnce(r request) {
	if strings.Contains(r.model, "abort") {
		panic(http.ErrAbortHandler)
	}
}

// ---- OpenAI chat completions ----

func chat(w http.ResponseWriter, r request, a reply) {
	id := "chatcmpl-" + r.id
	finish := "stop"
	if a.truncated {
		finish = "length"
	}
	usage := map[string]any{"prompt_tokens": a.inTok, "completion_tokens": a.outTk, "total_tokens": a.inTok + a.outTk}
	if !r.stream {
		abortOnce(r)
		writeJSON(w, 200, map[string]any{
			"id": id, "object": "chat.completion", "created": Created, "model": r.model,
			"choices": []any{map[string]any{
				"index": 0, "message": map[string]any{"role": "assistant", "content": a.text, "refusal": nil},
				"logprobs": nil, "finish_reason": finish,
			}},
			"usage": usage, "system_fingerprint": "fp_mock",
		})
		return
	}
	chunk := func(delta map[string]any, fin any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": Created, "model": r.model, "system_fingerprint": "fp_mock",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": fin}}}
	}
	cs := a.chunks()
	s := newSSE(w, r, len(cs)+4)
	s.send("", chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil))
	for _, c := range cs {
		s.send("", chunk(map[string]any{"content": c}, nil))
	}
	s.send("", chunk(map[string]any{}, finish))
	if r.usage {
		s.send("", map[string]any{"id": id, "object": "chat.completion.chunk", "created": Created, "model": r.model, "system_fingerprint": "fp_mock", "choices": []any{}, "usage": usage})
	}
	s.send("", "[DONE]")
}

// ---- OpenAI responses ----

func responses(w http.ResponseWriter, r request, a reply) {
	id := "resp_" + r.id
	msgID := "msg_" + r.id
	status := "completed"
	var incomplete any
	if a.truncated {
		status = "incomplete"
		incomplete = map[string]any{"reason": "max_output_tokens"}
	}
	part := func(text string) map[string]any {
		return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
	}
	item := func(st string, content []any) map[string]any {
		return map[string]any{"type": "message", "id": msgID, "status": st, "role": "assistant", "content": content}
	}
	resp := func(st string, output []any, usage any) map[string]any {
		return map[string]any{
			"id": id, "object": "response", "created_at": Created, "status": st, "model": r.model,
			"output": output, "usage": usage, "incomplete_details": incomplete, "error": nil,
			"parallel_tool_calls": true, "tool_choice": "auto", "tools": []any{}, "text": map[string]any{"format": map[string]any{"type": "text"}},
		}
	}
	usage := map[string]any{
		"input_tokens": a.inTok, "output_tokens": a.outTk, "total_tokens": a.inTok + a.outTk,
		"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0},
	}
	final := resp(status, []any{item("completed", []any{part(a.text)})}, usage)
	if !r.stream {
		abortOnce(r)
		writeJSON(w, 200, final)
		return
	}
	cs := a.chunks()
	s := newSSE(w, r, len(cs)+8)
	seq := 0
	ev := func(typ string, m map[string]any) {
		m["type"] = typ
		m["sequence_number"] = seq
		seq++
		s.send(typ, m)
	}
	ev("response.created", map[string]any{"response": resp("in_progress", []any{}, nil)})
	ev("response.in_progress", map[string]any{"response": resp("in_progress", []any{}, nil)})
	ev("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress", []any{})})
	ev("response.content_part.added", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "part": part("")})
	for _, c := range cs {
		ev("response.output_text.delta", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "delta": c, "logprobs": []any{}})
	}
	ev("response.output_text.done", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "text": a.text, "logprobs": []any{}})
	ev("response.content_part.done", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "part": part(a.text)})
	ev("response.output_item.done", map[string]any{"output_index": 0, "item": item("completed", []any{part(a.text)})})
	if a.truncated {
		ev("response.incomplete", map[string]any{"response": final})
	} else {
		ev("response.completed", map[string]any{"response": final})
	}
}

// ---- Anthropic messages ----

func anthropic(w http.ResponseWriter, r request, a reply) {
	id := "msg_" + r.id
	stop := "end_turn"
	if a.truncated {
		stop = "max_tokens"
	}
	if !r.stream {
		abortOnce(r)
		writeJSON(w, 200, map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": r.model,
			"content":     []any{map[string]any{"type": "text", "text": a.text}},
			"stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": a.inTok, "output_tokens": a.outTk, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
		})
		return
	}
	cs := a.chunks()
	s := newSSE(w, r, len(cs)+6)
	s.send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": r.model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": a.inTok, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	}})
	s.send("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	s.send("ping", map[string]any{"type": "ping"})
	for _, c := range cs {
		s.send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": c}})
	}
	s.send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	s.send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": a.outTk}})
	s.send("message_stop", map[string]any{"type": "message_stop"})
}

// ---- Gemini ----

func geminiChunk(r request, text string, finish string, usage map[string]any) map[string]any {
	cand := map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": text}}}, "index": 0}
	if finish != "" {
		cand["finishReason"] = finish
	}
	m := map[string]any{"candidates": []any{cand}, "modelVersion": r.model, "responseId": r.id}
	if usage != nil {
		m["usageMetadata"] = usage
	}
	return m
}

func geminiFinish(a reply) string {
	if a.truncated {
		return "MAX_TOKENS"
	}
	return "STOP"
}

func geminiUsage(a reply, out int) map[string]any {
	return map[string]any{"promptTokenCount": a.inTok, "candidatesTokenCount": out, "totalTokenCount": a.inTok + out}
}

func geminiOnce(w http.ResponseWriter, r request, a reply) {
	abortOnce(r)
	writeJSON(w, 200, geminiChunk(r, a.text, geminiFinish(a), geminiUsage(a, a.outTk)))
}

// geminiStream answers streamGenerateContent: SSE with ?alt=sse (what the
// SDKs use), otherwise a streamed JSON array as the REST API does.
func geminiStream(w http.ResponseWriter, r request, a reply, asSSE bool) {
	cs := a.chunks()
	events := make([]map[string]any, len(cs))
	for i, c := range cs {
		fin := ""
		out := i + 1
		if i == len(cs)-1 {
			fin = geminiFinish(a)
		}
		events[i] = geminiChunk(r, c, fin, geminiUsage(a, out))
	}
	if len(cs) == 0 {
		events = append(events, geminiChunk(r, "", geminiFinish(a), geminiUsage(a, 0)))
	}
	if asSSE {
		s := newSSE(w, r, len(events))
		for _, e := range events {
			s.send("", e)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	abortAt := -1
	if strings.Contains(r.model, "abort") {
		abortAt = len(events) / 2
	}
	for i, e := range events {
		if i == abortAt {
			panic(http.ErrAbortHandler)
		}
		if i > 0 && strings.Contains(r.model, "slow") {
			time.Sleep(SlowDelay)
		}
		b, _ := json.Marshal(e)
		sep := ",\n"
		if i == 0 {
			sep = "["
		}
		_, _ = w.Write([]byte(sep))
		_, _ = w.Write(b)
		if f != nil {
			f.Flush()
		}
	}
	_, _ = w.Write([]byte("]"))
}
