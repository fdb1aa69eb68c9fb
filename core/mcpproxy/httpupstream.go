package mcpproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/jsonrpc"
)

// TransportHTTP names the streamable HTTP transport in receipts.
const TransportHTTP = "streamable-http"

// errCodeInternal is the JSON-RPC code of the errors the upstream makes up
// for requests the server could not answer.
const errCodeInternal = -32603

// deleteTimeout bounds the DELETE that ends the session.
const deleteTimeout = 5 * time.Second

// HTTPOptions configure an HTTPUpstream.
type HTTPOptions struct {
	// Header holds extra headers sent on every request (e.g. Authorization).
	// Their values are secrets: never logged, never put in errors.
	Header http.Header
	// Client sends the requests; nil means a client with timeouts for
	// connection setup only (SSE streams may stay open for long).
	Client *http.Client
	// Logger receives warnings (stderr); nil means silent.
	Logger *zerolog.Logger
}

// HTTPUpstream is an MCP server reached over streamable HTTP (both the
// session era, 2024-11-05 to 2025-11-25, and the stateless 2026-07-28 era).
// Each client message is one POST; whatever the server answers (a JSON body
// or an SSE stream) comes back through Recv in the order it was received.
type HTTPUpstream struct {
	url     string // as given, userinfo included (Go sends it as Basic auth)
	safeURL string // scheme://host/path: what messages may show
	header  http.Header
	secrets []string // header values, redacted from anything we print
	client  *http.Client
	ownsCli bool
	log     zerolog.Logger

	ctx    context.Context // cancelled by Stop: ends every request
	cancel context.CancelFunc

	mu        sync.Mutex
	cond      *sync.Cond          // signalled on every change below
	session   string              // Mcp-Session-Id issued by the server
	version   string              // negotiated protocol version
	pending   map[string]string   // request id -> method, for responses we read
	tools     map[string]mcp.Tool // from tools/list, for Mcp-Param-* headers
	queue     []Message
	posts     int  // POSTs whose response is still being read
	streams   int  // the GET stream (0 or 1)
	closing   bool // the closer (wait for POSTs, DELETE) is running
	closed    bool // CloseSend or Stop called: no more Sends
	getOpened bool
	getCancel context.CancelFunc
	wg        sync.WaitGroup

	stopOnce sync.Once
	exit     Exit
}

var _ Upstream = (*HTTPUpstream)(nil)

// NewHTTPUpstream checks rawURL (http or https, with a host) and returns an
// upstream for it. It does not connect: the first Send does.
func NewHTTPUpstream(rawURL string, o HTTPOptions) (*HTTPUpstream, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, exit.Bad("give the server's full MCP endpoint, e.g. https://example.com/mcp",
			"--upstream-url is not a valid URL")
	}
	safe := redactURL(u)
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil, exit.Bad("use an http:// or https:// URL of the server's MCP endpoint",
			"--upstream-url %s: scheme %q is not http or https", safe, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, exit.Bad("include the host, e.g. https://example.com/mcp",
			"--upstream-url %s has no host", safe)
	}
	up := &HTTPUpstream{
		url:     u.String(),
		safeURL: safe,
		header:  o.Header.Clone(),
		client:  o.Client,
		log:     zerolog.Nop(),
		pending: map[string]string{},
		tools:   map[string]mcp.Tool{},
	}
	if o.Logger != nil {
		up.log = o.Logger.With().Str("upstream", safe).Logger()
	}
	for _, vs := range o.Header {
		for _, v := range vs {
			up.addSecret(v)
			// The token without its scheme ("Bearer ", "Basic "): a
			// server's error text may echo it alone.
			for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
				if len(f) >= 8 {
					up.addSecret(f)
				}
			}
		}
	}
	if u.User != nil {
		if name := u.User.Username(); len(name) >= 8 {
			up.addSecret(name) // https://TOKEN@host/ is common
		}
		if p, ok := u.User.Password(); ok {
			up.addSecret(p)
		}
	}
	// Longest first: a value is redacted whole, not around a shorter part.
	sort.Slice(up.secrets, func(i, j int) bool { return len(up.secrets[i]) > len(up.secrets[j]) })
	if up.client == nil {
		up.client, up.ownsCli = defaultClient(), true
	}
	up.cond = sync.NewCond(&up.mu)
	up.ctx, up.cancel = context.WithCancel(context.Background())
	return up, nil
}

// defaultClient times out connection setup only: a tool call may take long
// and an SSE stream may stay open for the whole session.
func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}}
}

// redactURL drops userinfo, query and fragment: any of them may hold a token.
func redactURL(u *url.URL) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return c.String()
}

// Transport implements Upstream.
func (u *HTTPUpstream) Transport() string { return TransportHTTP }

// SessionID returns the Mcp-Session-Id the server issued ("" if none).
func (u *HTTPUpstream) SessionID() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.session
}

// ProtocolVersion returns the protocol version in use ("" until known).
func (u *HTTPUpstream) ProtocolVersion() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.version
}

// hasID reports whether a message carries a non-null id.
func hasID(r *jsonrpc.Message) bool { return r.ID != nil && string(r.ID) != "null" }

// isResponse: a response to a request (an id, and a result or error).
func isResponse(r *jsonrpc.Message) bool { return r.IsResponse() && hasID(r) }

// parseRPC reads one message with core/jsonrpc, exactly (what the proxy
// forwards was checked already; a server's answer is checked here the
// same way); ok is false for anything else, batches included.
func parseRPC(body []byte) (msgs []*jsonrpc.Message, ok bool) {
	m, err := jsonrpc.Decode(body)
	if err != nil {
		return nil, false
	}
	return []*jsonrpc.Message{m}, true
}

// idKey normalises a JSON-RPC id so that 1 and 1.0, or "a" written with
// escapes, match.
func idKey(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// outgoing is what Send learnt from one client message.
type outgoing struct {
	requests    []json.RawMessage // ids of the requests in the body
	init        bool              // carries initialize
	initialized bool              // carries notifications/initialized
	modern      bool              // 2026-07-28 era: no session, no GET stream
	method      string
}

// errClosed is returned by Send after CloseSend or Stop.
var errClosed = errors.New("upstream session closed")

// Send POSTs m.Body unchanged. It returns once the request is written; for
// initialize, once the response headers are in (the session id is needed
// next), and for a message without requests once it is acknowledged (at
// most orderWait), so the server sees them in order. Responses are read in
// the background and come back through Recv. A failed POST is not an error
// here: its requests get JSON-RPC errors through Recv.
func (u *HTTPUpstream) Send(ctx context.Context, m Message) error {
	if m.Blank() {
		return nil // nothing to POST; stdio peers may send blank lines
	}
	msgs, ok := parseRPC(m.Body)
	var out outgoing
	var metaVersion string
	var params json.RawMessage
	if ok {
		for _, r := range msgs {
			if r.IsRequest() {
				out.requests = append(out.requests, r.ID)
			}
			switch r.Method {
			case string(mcp.MethodInitialize):
				out.init = true
			case "notifications/initialized":
				out.initialized = true
			}
		}
		if len(msgs) == 1 {
			out.method, params = msgs[0].Method, msgs[0].Params
			metaVersion = metaProtocolVersion(params)
		}
	}

	h := make(http.Header, len(u.header)+6)
	for k, vs := range u.header {
		h[k] = append([]string(nil), vs...)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")

	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return errClosed
	}
	version := u.version
	if metaVersion != "" {
		version = metaVersion // the body and the header must agree
		if u.version == "" {
			u.version = metaVersion // 2026-07-28: no initialize to learn it from
		}
	}
	out.modern = mcp.IsModernProtocol(version)
	if u.session != "" && !out.init && !out.modern {
		h.Set(mcp.HeaderSessionID, u.session)
	}
	if version != "" {
		h.Set(mcp.HeaderProtocolVersion, version)
	}
	if out.modern {
		for k, v := range mcp.StandardHeaders(version, mcp.MCPMethod(out.method), params) {
			h.Set(k, v)
		}
		if out.method == string(mcp.MethodToolsCall) {
			if t, ok := u.tools[toolName(params)]; ok {
				for k, v := range mcp.GenerateParamHeaders(&t, params) {
					h.Set(k, v)
				}
			}
		}
	}
	for _, r := range msgs {
		if r.IsRequest() && (r.Method == string(mcp.MethodInitialize) || r.Method == string(mcp.MethodToolsList)) {
			u.pending[idKey(r.ID)] = r.Method
		}
	}
	u.posts++
	u.wg.Add(1)
	u.mu.Unlock()

	wrote, answered := make(chan struct{}), make(chan struct{})
	go u.post(m.Body, h, out, wrote, answered)
	select {
	case <-wrote:
	case <-ctx.Done():
		return ctx.Err()
	}
	switch {
	case out.init:
		// Later messages need the session id this answer carries.
		select {
		case <-answered:
		case <-ctx.Done():
			return ctx.Err()
		}
	case len(out.requests) == 0:
		// Notifications and responses are answered at once (202): waiting
		// for that keeps them processed in order with what follows (e.g.
		// notifications/initialized before the first request), as the
		// mcp-go client does. A server slow to answer gets orderWait.
		t := time.NewTimer(orderWait)
		defer t.Stop()
		select {
		case <-answered:
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// orderWait bounds how long Send waits for the answer to a notification.
const orderWait = 2 * time.Second

// metaProtocolVersion reads params._meta's protocol version (2026-07-28
// requests carry it on every request).
func metaProtocolVersion(params json.RawMessage) string {
	if len(params) == 0 {
		return ""
	}
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	var v string
	_ = json.Unmarshal(p.Meta[mcp.MetaKeyProtocolVersion], &v)
	return v
}

func toolName(params json.RawMessage) string {
	var p struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(params, &p)
	return p.Name
}

// post sends one POST and delivers what comes back. wrote is closed once
// the request is written, answered once the response headers are handled
// (both also when the POST fails).
func (u *HTTPUpstream) post(body []byte, h http.Header, out outgoing, wrote, answered chan struct{}) {
	defer u.wg.Done()
	var once, once2 sync.Once
	signal := func() { once.Do(func() { close(wrote) }) }
	headers := func() { once2.Do(func() { close(answered) }) }
	defer signal()
	defer headers()
	defer u.postDone()

	open := map[string]json.RawMessage{} // requests not answered yet
	for _, id := range out.requests {
		open[idKey(id)] = id
	}
	ctx := httptrace.WithClientTrace(u.ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { signal() },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body))
	if err != nil {
		u.failAll(open, "upstream unreachable: "+u.shortErr(err))
		return
	}
	req.Header = h
	resp, err := u.client.Do(req)
	if err != nil {
		reason := "upstream unreachable: " + u.shortErr(err)
		if u.ctx.Err() != nil {
			reason = "upstream stopped before answering"
		}
		u.warnFailed(open, out, reason)
		u.failAll(open, reason)
		return
	}
	defer resp.Body.Close()
	if out.init && resp.StatusCode/100 == 2 {
		u.mu.Lock()
		if sid := resp.Header.Get(mcp.HeaderSessionID); sid != u.session {
			// A new initialize starts a new session: the GET stream of the
			// old one goes, the next notifications/initialized opens another.
			u.session = sid
			if u.getCancel != nil {
				u.getCancel()
			}
			u.getOpened = false
		}
		u.mu.Unlock()
	}
	signal()
	headers()

	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode >= 400:
		u.httpError(resp, ctype, h.Get(mcp.HeaderSessionID) != "", open, out)
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	case ctype == "text/event-stream":
		err = readSSE(resp.Body, func(data []byte) { u.deliver(data, open) })
		if err != nil && u.ctx.Err() == nil {
			u.log.Warn().Str("error", u.redact(err.Error())).Msg("upstream: SSE stream broke off")
		}
	case ctype == "application/json":
		data, err := readBounded(resp.Body)
		if err != nil {
			u.log.Warn().Str("error", u.redact(err.Error())).Msg("upstream: reading the response failed")
		} else if len(bytes.TrimSpace(data)) > 0 {
			u.deliver(data, open)
		}
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if len(open) > 0 {
			u.log.Warn().Int("status", resp.StatusCode).Str("content_type", ctype).Msg("upstream: unexpected response type")
		}
	}
	if len(open) > 0 {
		reason := "upstream answered without a response to this request"
		if u.ctx.Err() != nil {
			reason = "upstream stopped before answering"
		}
		u.warnFailed(open, out, reason)
		u.failAll(open, reason)
	}
	if out.initialized && resp.StatusCode/100 == 2 && !out.modern {
		u.openGET()
	}
}

// httpError turns a 4xx/5xx into JSON-RPC errors for the requests it leaves
// unanswered. A body that is itself JSON-RPC (2026-07-28 servers map error
// codes to HTTP statuses) is delivered as it is.
func (u *HTTPUpstream) httpError(resp *http.Response, ctype string, hadSession bool, open map[string]json.RawMessage, out outgoing) {
	data, _ := readBounded(io.LimitReader(resp.Body, MaxMessage))
	if ctype == "application/json" {
		if msgs, ok := parseRPC(data); ok && answersOnly(msgs, open) {
			u.deliver(data, open)
			if len(open) == 0 {
				u.log.Warn().Int("status", resp.StatusCode).Msg("upstream: answered with a JSON-RPC error")
				return
			}
		}
	}
	var reason string
	switch {
	case resp.StatusCode == http.StatusNotFound && hadSession:
		reason = "upstream session expired (HTTP 404): the client must initialize again"
		u.mu.Lock()
		u.session = ""
		u.mu.Unlock()
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		reason = fmt.Sprintf("upstream refused the request (HTTP %d %s): check the credentials sent to the upstream",
			resp.StatusCode, http.StatusText(resp.StatusCode))
	default:
		reason = fmt.Sprintf("upstream HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if ctype != "application/json" && ctype != "text/event-stream" {
			if s := firstLine(data); s != "" {
				reason += ": " + u.redact(s)
			}
		}
	}
	u.warnFailed(open, out, reason)
	u.failAll(open, reason)
}

// answersOnly reports whether msgs are all responses to requests of this
// POST (so an error body is not delivered twice, or for a notification),
// or, for a POST without requests, errors without an id (the server's
// answer to an unparsable message, as a stdio server would give it).
func answersOnly(msgs []*jsonrpc.Message, open map[string]json.RawMessage) bool {
	for _, m := range msgs {
		if m.Method == "" && m.Error != nil && !hasID(m) && len(open) == 0 {
			continue
		}
		if _, ok := open[idKey(m.ID)]; !ok || !isResponse(m) {
			return false
		}
	}
	return len(msgs) > 0
}

// firstLine is a short, printable excerpt of an error body.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// warnFailed logs a failed POST once: the client gets an error response for
// its requests; a failed notification or response only shows up here.
func (u *HTTPUpstream) warnFailed(open map[string]json.RawMessage, out outgoing, reason string) {
	ev := u.log.Warn().Str("reason", reason)
	if out.method != "" {
		ev = ev.Str("method", out.method)
	}
	if len(open) == 0 {
		ev.Msg("upstream: a message without a request id was not delivered")
		return
	}
	ev.Int("requests", len(open)).Msg("upstream: request failed; the client gets a JSON-RPC error")
}

// failAll answers every open request with a synthesized error.
func (u *HTTPUpstream) failAll(open map[string]json.RawMessage, reason string) {
	for k, id := range open {
		u.pushMsg(Message{Body: errorResponse(id, reason), Framing: NDJSON, Synthetic: reason})
		delete(open, k)
	}
}

// errorResponse is a JSON-RPC error response for id.
func errorResponse(id json.RawMessage, msg string) []byte {
	return jsonrpc.ErrorResponse(id, errCodeInternal, msg)
}

// deliver queues one server message and notes what it answers.
func (u *HTTPUpstream) deliver(data []byte, open map[string]json.RawMessage) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return
	}
	if bytes.ContainsAny(data, "\r\n") {
		// A line break inside a message would split it on an NDJSON stdio
		// stream; outside strings it is only whitespace.
		var c bytes.Buffer
		if json.Compact(&c, data) == nil {
			data = c.Bytes()
		}
	}
	msgs, ok := parseRPC(data)
	if ok {
		u.mu.Lock()
		for _, r := range msgs {
			if !isResponse(r) {
				continue
			}
			k := idKey(r.ID)
			delete(open, k)
			if method, ok := u.pending[k]; ok {
				delete(u.pending, k)
				u.observe(method, r.Result)
			}
		}
		u.mu.Unlock()
	}
	u.push(data)
}

// observe reads the results the transport depends on: the negotiated
// protocol version, and tool definitions for Mcp-Param-* headers. Caller
// holds mu.
func (u *HTTPUpstream) observe(method string, result json.RawMessage) {
	if result == nil {
		return
	}
	switch method {
	case string(mcp.MethodInitialize):
		var r struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if json.Unmarshal(result, &r) == nil && r.ProtocolVersion != "" {
			u.version = r.ProtocolVersion
		}
	case string(mcp.MethodToolsList):
		var r struct {
			Tools []mcp.Tool `json:"tools"`
		}
		if json.Unmarshal(result, &r) == nil {
			for _, t := range r.Tools {
				u.tools[t.Name] = t
			}
		}
	}
}

// push appends a message to the Recv queue. The queue is unbounded: a
// reader must never block on a proxy that stopped reading.
func (u *HTTPUpstream) push(body []byte) { u.pushMsg(Message{Body: body, Framing: NDJSON}) }

func (u *HTTPUpstream) pushMsg(m Message) {
	u.mu.Lock()
	u.queue = append(u.queue, m)
	u.mu.Unlock()
	u.cond.Broadcast()
}

func (u *HTTPUpstream) postDone() {
	u.mu.Lock()
	u.posts--
	u.mu.Unlock()
	u.cond.Broadcast()
}

// openGET opens the optional GET stream for server-initiated messages,
// once per session.
func (u *HTTPUpstream) openGET() {
	u.mu.Lock()
	if u.getOpened || u.closed {
		u.mu.Unlock()
		return
	}
	u.getOpened = true
	ctx, cancel := context.WithCancel(u.ctx)
	u.getCancel = cancel
	u.streams++
	h := u.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Accept", "text/event-stream")
	if u.session != "" {
		h.Set(mcp.HeaderSessionID, u.session)
	}
	if u.version != "" {
		h.Set(mcp.HeaderProtocolVersion, u.version)
	}
	u.wg.Add(1)
	u.mu.Unlock()
	go u.listen(ctx, h)
}

func (u *HTTPUpstream) listen(ctx context.Context, h http.Header) {
	defer u.wg.Done()
	defer func() {
		u.mu.Lock()
		u.streams--
		u.mu.Unlock()
		u.cond.Broadcast()
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url, nil)
	if err != nil {
		return
	}
	req.Header = h
	resp, err := u.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			u.log.Warn().Str("error", u.shortErr(err)).Msg("upstream: GET stream for server messages failed")
		}
		return
	}
	defer resp.Body.Close()
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusMethodNotAllowed:
		u.log.Debug().Msg("upstream: no GET stream (405)")
		return
	case resp.StatusCode != http.StatusOK || ctype != "text/event-stream":
		u.log.Warn().Int("status", resp.StatusCode).Str("content_type", ctype).Msg("upstream: GET stream for server messages refused")
		return
	}
	err = readSSE(resp.Body, func(data []byte) { u.deliver(data, nil) })
	if err != nil && ctx.Err() == nil {
		u.log.Warn().Str("error", u.redact(err.Error())).Msg("upstream: GET stream broke off")
	}
}

// Recv returns the next server message, or io.EOF once the session is
// closed and every POST and stream has finished.
func (u *HTTPUpstream) Recv() (Message, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		if len(u.queue) > 0 {
			m := u.queue[0]
			u.queue[0] = Message{}
			u.queue = u.queue[1:]
			return m, nil
		}
		if u.closed && u.posts == 0 && u.streams == 0 && !u.closing {
			return Message{}, io.EOF
		}
		u.cond.Wait()
	}
}

// CloseSend ends the session: no more Sends; once the POSTs in flight have
// their answers, a DELETE ends the server's session and the GET stream is
// closed, after which Recv returns io.EOF. It does not block.
func (u *HTTPUpstream) CloseSend() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closeLocked()
	return nil
}

func (u *HTTPUpstream) closeLocked() {
	if u.closed {
		return
	}
	u.closed = true
	u.closing = true
	u.wg.Add(1)
	go u.closer()
	u.cond.Broadcast()
}

// closer waits for in-flight POSTs (their responses are evidence), then
// DELETEs the session and closes the GET stream.
func (u *HTTPUpstream) closer() {
	defer u.wg.Done()
	u.mu.Lock()
	for u.posts > 0 {
		u.cond.Wait()
	}
	session, version := u.session, u.version
	u.mu.Unlock()
	if session != "" && !mcp.IsModernProtocol(version) && u.ctx.Err() == nil {
		u.deleteSession(session, version)
	}
	u.mu.Lock()
	if u.getCancel != nil {
		u.getCancel()
	}
	u.closing = false
	u.mu.Unlock()
	u.cond.Broadcast()
}

func (u *HTTPUpstream) deleteSession(session, version string) {
	ctx, cancel := context.WithTimeout(u.ctx, deleteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.url, nil)
	if err != nil {
		return
	}
	req.Header = u.header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set(mcp.HeaderSessionID, session)
	if version != "" {
		req.Header.Set(mcp.HeaderProtocolVersion, version)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		if u.ctx.Err() == nil {
			u.log.Warn().Str("error", u.shortErr(err)).Msg("upstream: could not end the session")
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2, resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed:
	default:
		u.log.Warn().Int("status", resp.StatusCode).Msg("upstream: ending the session failed")
	}
}

// Stop closes the session if CloseSend was not called, waits up to grace
// for the requests in flight, then cancels everything. Safe to call more
// than once; later calls return the first result.
func (u *HTTPUpstream) Stop(grace time.Duration) Exit {
	u.stopOnce.Do(func() {
		u.mu.Lock()
		u.closeLocked()
		u.mu.Unlock()
		idle := make(chan struct{})
		go func() { // ends at the latest once cancel below unblocks everyone
			u.mu.Lock()
			for u.posts > 0 || u.closing {
				u.cond.Wait()
			}
			u.mu.Unlock()
			close(idle)
		}()
		t := time.NewTimer(grace)
		defer t.Stop()
		killed := false
		var left int
		select {
		case <-idle:
		case <-t.C:
			u.mu.Lock()
			left = u.posts
			u.mu.Unlock()
			killed = left > 0
		}
		u.cancel()
		<-idle
		u.wg.Wait()
		if u.ownsCli {
			u.client.CloseIdleConnections()
		}
		u.exit = Exit{Code: -1, Killed: killed, Detail: "session ended"}
		if killed {
			u.exit.Detail = fmt.Sprintf("cancelled %d in-flight request(s) after %s", left, grace)
		}
	})
	return u.exit
}

// shortErr describes a transport error without the URL (which may carry
// credentials) or anything from the headers.
func (u *HTTPUpstream) shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dns):
		return "cannot resolve host " + dns.Name
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	return u.redact(err.Error())
}

func (u *HTTPUpstream) addSecret(v string) {
	if v = strings.TrimSpace(v); len(v) >= 4 {
		u.secrets = append(u.secrets, v)
	}
}

// redact removes header values (and the tokens in them) and the URL's
// user and password from s.
func (u *HTTPUpstream) redact(s string) string {
	for _, v := range u.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// readBounded reads a whole body of at most MaxMessage bytes.
func readBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMessage {
		return nil, ErrTooLarge
	}
	return b, nil
}

// readSSE reads a text/event-stream and calls fn with each event's data
// (several data lines joined with "\n", per the SSE spec). Comments and
// other fields (event, id, retry) are ignored. A last event not followed by
// a blank line is still delivered: a server that closes right after its
// final data line has sent a complete message.
func readSSE(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var data []byte
	has := false
	dispatch := func() {
		if has {
			fn(data)
		}
		data, has = nil, false
	}
	for {
		line, err := readSSELine(br)
		if len(line) == 0 && err != nil {
			dispatch()
			if err == io.EOF {
				return nil
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			dispatch()
		case line[0] == ':':
		default:
			field, value, found := bytes.Cut(line, []byte(":"))
			if found && len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
			if string(field) == "data" {
				if has {
					data = append(data, '\n')
				}
				data = append(data, value...)
				has = true
				if len(data) > MaxMessage {
					return ErrTooLarge
				}
			}
		}
		if err != nil {
			dispatch()
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// readSSELine reads one line including its '\n', bounded by MaxMessage.
func readSSELine(br *bufio.Reader) ([]byte, error) {
	b, err := readLine(br, MaxMessage)
	if _, ok := err.(*TooLargeError); ok {
		return nil, ErrTooLarge
	}
	return b, err
}
