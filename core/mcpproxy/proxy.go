package mcpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/version"
)

// IntegrationSource names the proxy in its receipts, as the reference does.
const IntegrationSource = "assay.mcp_proxy"

// JSON-RPC error codes of the answers the proxy itself gives a client.
const (
	CodeDenied      = -32001 // the reference's code for a policy denial
	CodeTimeout     = -32002 // no response within --call-timeout
	CodeServerGone  = -32003 // the server ended or could not be reached
	defaultGrace    = 5 * time.Second
	interruptGrace  = 2 * time.Second
	drainAfterClose = time.Second
	// clientEOFWindow: how long after a signal the client's end of input
	// still counts as the client closing the session.
	clientEOFWindow = 100 * time.Millisecond
	// interruptStopGrace: how long a server gets to exit on its own when
	// the proxy is signalled during shutdown (MCP clients SIGKILL after 2s).
	interruptStopGrace = 500 * time.Millisecond
	// exitDrain: how long the server's output may stay open after its
	// process exited (a grandchild holding it) before the session ends.
	exitDrain = 300 * time.Millisecond
)

// Outcomes of a tool call.
const (
	OutcomeForwarded = "forwarded"
	OutcomeError     = "error"
	OutcomeDenied    = "denied"
	OutcomeTimeout   = "timeout"
)

// Options configure one proxy session.
type Options struct {
	Upstream  Upstream
	Client    io.Reader // what the client writes (the proxy's stdin)
	ClientOut io.Writer // what the client reads (the proxy's stdout)

	Store     *store.Store
	TraceID   string // receipts go to this trace
	SessionID string // mcp_<16 hex>; generated when empty
	ServerID  string

	Policy       *mcppolicy.Policy // nil: no policy
	StoreArgs    bool              // keep arguments in cleartext (else hash only)
	StoreResults bool              // keep results in cleartext (else hash only)
	CallTimeout  time.Duration     // 0: wait for ever
	Grace        time.Duration     // wait for the server after the client closed (default 5s)

	Logger *zerolog.Logger // nil: silent
}

// Session is what happened in one proxy session.
type Session struct {
	SessionID  string   `json:"session_id"`
	TraceID    string   `json:"trace_id"`
	ServerID   string   `json:"server_id"`
	Transport  string   `json:"server_transport"`
	StartedAt  string   `json:"started_at"`
	EndedAt    string   `json:"ended_at"`
	Complete   bool     `json:"session_complete"`
	Incomplete []string `json:"incomplete_reasons"`
	PolicyMode string   `json:"policy_mode"` // audit, enforce or none

	ToolCalls int            `json:"tool_calls"`
	Outcomes  map[string]int `json:"outcomes"`
	// WouldDeny counts calls an audit-mode policy would have denied.
	WouldDeny int `json:"would_deny"`
	// ReceiptsWritten counts the receipts in the trace written by the
	// proxy (tool calls and the session_metadata receipt).
	ReceiptsWritten int `json:"receipts_written"`
	// EvidenceLost counts receipts that could not be written.
	EvidenceLost int  `json:"evidence_lost"`
	ServerExit   Exit `json:"server_exit"`
	// GarbageMessages counts server output that was not JSON (dropped).
	GarbageMessages int `json:"garbage_messages"`
}

// call is a tools/call the proxy has seen and not yet resolved.
type call struct {
	id         any    // the JSON-RPC id, decoded
	idKey      string // its canonical JSON
	rawID      json.RawMessage
	tool       string
	args       any    // decoded arguments (canonical form)
	argsHash   string // sha256:…
	framing    Framing
	invocation string
	requestAt  time.Time
	decidedAt  time.Time // zero without a policy
	decision   *mcppolicy.Decision
	timer      *time.Timer
	cancelled  bool // the client sent notifications/cancelled for it
}

type proxy struct {
	o   Options
	log zerolog.Logger
	up  Upstream

	eval *mcppolicy.Evaluator

	mu      sync.Mutex // guards pending, expired, stopped and the counters in sess
	pending map[string]*call
	expired map[string]bool // ids answered by the proxy (timeout); a late response is dropped
	stopped bool            // the session has ended: nothing more is recorded through rec
	sess    *Session

	incMu      sync.Mutex // guards incomplete; never held with mu by the recorder
	incomplete []string

	written, lost atomic.Int64 // receipts the recorder wrote or lost

	clientFraming atomic.Int32
	serverFraming atomic.Int32 // the framing of the server's last message (NDJSON until it speaks)
	clientEOF     atomic.Bool  // the client closed its input (not an interrupt)
	sendFailed    atomic.Bool  // a send to the server has failed
	outMu         sync.Mutex   // serialises writes to the client
	clientGone    atomic.Bool
	sendMu        sync.Mutex // serialises sends to the server

	seq     atomic.Int64
	rec     chan *canon.Object
	recDone chan struct{}
}

// Run proxies one session until the client or the server ends it, then
// stops the server, records the session_metadata receipt and returns what
// happened. It never returns before every receipt it wrote is on disk. The
// error is non-nil only when the session could not run at all.
func Run(ctx context.Context, o Options) (*Session, error) {
	if o.Upstream == nil || o.Client == nil || o.ClientOut == nil || o.Store == nil {
		return nil, errors.New("mcpproxy: Upstream, Client, ClientOut and Store are required")
	}
	if err := store.ValidTraceID(o.TraceID); err != nil {
		return nil, fmt.Errorf("trace id %q: %w", o.TraceID, err)
	}
	if o.SessionID == "" {
		o.SessionID = NewSessionID()
	}
	if o.Grace <= 0 {
		o.Grace = defaultGrace
	}
	start := time.Now()
	p := &proxy{
		o:       o,
		log:     zerolog.Nop(),
		up:      o.Upstream,
		pending: map[string]*call{},
		expired: map[string]bool{},
		rec:     make(chan *canon.Object, 1024),
		recDone: make(chan struct{}),
		sess: &Session{
			SessionID: o.SessionID, TraceID: o.TraceID, ServerID: o.ServerID,
			Transport: o.Upstream.Transport(), StartedAt: receipt.Timestamp(start),
			Outcomes: map[string]int{}, PolicyMode: "none", Incomplete: []string{},
		},
	}
	if o.Logger != nil {
		p.log = *o.Logger
	}
	if o.Policy != nil {
		p.eval = o.Policy.NewEvaluator(start)
		p.sess.PolicyMode = o.Policy.Mode
	}
	go p.recorder()

	serverDone := make(chan struct{})
	clientDone := make(chan struct{})
	go func() { defer close(serverDone); p.pumpServer() }()
	go func() { defer close(clientDone); p.pumpClient(ctx) }()
	// The server has ended when its output closes, or when its process
	// exits: a child it started may hold its stdout open for ever.
	serverGone := make(chan struct{})
	go func() {
		defer close(serverGone)
		var exited <-chan struct{}
		if x, ok := o.Upstream.(interface{ Exited() <-chan struct{} }); ok {
			exited = x.Exited()
		}
		select {
		case <-serverDone:
			return
		case <-exited:
		}
		// Its last output may still be in the pipe.
		select {
		case <-serverDone:
		case <-time.After(exitDrain):
			p.log.Warn().Msg("the MCP server exited but its output is still open (held by a process it started); ending the session")
		}
	}()

	grace := o.Grace
	var ended string
	select {
	case <-clientDone:
		ended = "client"
	case <-serverGone:
		ended = "server"
	case <-ctx.Done():
		ended = "interrupt"
		// MCP clients commonly close our stdin and signal us at the same
		// moment (the TypeScript SDK's close aborts the child): a client
		// whose input ended together with the signal closed the session.
		select {
		case <-clientDone:
			if p.clientEOF.Load() {
				ended = "client"
				break
			}
			p.markIncomplete("the proxy was interrupted before the client closed the session")
			grace = min(grace, interruptGrace)
		case <-time.After(clientEOFWindow):
			p.markIncomplete("the proxy was interrupted before the client closed the session")
			grace = min(grace, interruptGrace)
		}
	}
	// How long Stop waits for the process before terminating it: the whole
	// grace when its output has ended (it is exiting), a moment otherwise
	// (the grace was spent waiting below).
	stopGrace := grace
	if ended != "server" {
		p.sendMu.Lock()
		_ = p.up.CloseSend()
		p.sendMu.Unlock()
		// Calls in flight may still be answered; wait for the server's
		// output to end, up to the grace period, or less when interrupted
		// (an MCP client that closed us sends SIGTERM after its own wait).
		interrupted := ctx.Done()
		if ended == "interrupt" {
			interrupted = nil
		}
		select {
		case <-serverDone:
		case <-time.After(grace):
			stopGrace = 10 * time.Millisecond
		case <-interrupted:
			// Hurry, but give a server that is exiting on its input's
			// end a moment to do so rather than killing it mid-exit.
			p.log.Info().Msg("interrupted while the server shuts down; stopping it now")
			stopGrace = interruptStopGrace
		}
	}
	exit := p.up.Stop(stopGrace)
	select {
	case <-serverDone:
	case <-time.After(drainAfterClose):
		p.log.Warn().Msg("the server's output did not close after it was stopped")
	}
	p.sess.ServerExit = exit
	if exit.Killed {
		if ended == "client" && p.idle() {
			// The MCP stdio shutdown: the client closed, the server did not
			// exit, so it is terminated. Nothing was in flight, nothing lost.
			p.log.Info().Str("server", exit.Detail).Msg("the MCP server did not exit after the client closed; terminated with nothing in flight")
		} else {
			p.markIncomplete("the MCP server " + exit.Detail)
		}
	} else if exit.Code > 0 {
		p.markIncomplete("the MCP server " + exit.Detail)
	}
	p.abandonPending(ended)

	// From here on nothing is queued: the recorder drains and stops.
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.rec <- nil
	<-p.recDone
	end := time.Now()
	p.sess.EndedAt = receipt.Timestamp(end)
	p.writeSessionMetadata(end)
	p.sess.ReceiptsWritten = int(p.written.Load())
	p.sess.EvidenceLost = int(p.lost.Load())
	p.incMu.Lock()
	p.sess.Incomplete = append([]string{}, p.incomplete...)
	p.incMu.Unlock()
	p.sess.Complete = len(p.sess.Incomplete) == 0
	return p.sess, nil
}

// idle reports whether the server owes no answer: no call is in flight and
// no timed-out call is still unanswered.
func (p *proxy) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) > 0 {
		return false
	}
	for _, unanswered := range p.expired {
		if unanswered {
			return false
		}
	}
	return true
}

// NewSessionID returns a session id in the reference's form, mcp_<16 hex>.
func NewSessionID() string { return receipt.NewID("mcp_", 16) }

// NewTraceID returns the reference proxy's trace id for a session:
// mcp_<session id>_<unix seconds>.
func NewTraceID(sessionID string, now time.Time) string {
	return fmt.Sprintf("mcp_%s_%d", sessionID, now.Unix())
}

func (p *proxy) markIncomplete(reason string) {
	p.incMu.Lock()
	defer p.incMu.Unlock()
	for _, r := range p.incomplete {
		if r == reason {
			return
		}
	}
	p.incomplete = append(p.incomplete, reason)
}

// ---- client -> server ----

func (p *proxy) pumpClient(ctx context.Context) {
	r := NewReader(p.o.Client)
	for {
		m, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Warn().Err(err).Msg("reading the client failed; ending the session")
				p.markIncomplete("the client's input could not be read: " + err.Error())
			} else {
				p.clientEOF.Store(true)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		p.clientFraming.Store(int32(m.Framing))
		p.fromClient(ctx, m)
	}
}

// envelope is the part of a JSON-RPC message the proxy reads. Absent
// members stay nil; a JSON null is "null".
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func (e *envelope) isToolCall() bool {
	return e.Method == "tools/call" && len(e.ID) > 0 && !isNull(e.ID) && len(e.Params) > 0
}

func (e *envelope) isResponse() bool {
	return e.Method == "" && len(e.ID) > 0 && (len(e.Result) > 0 || len(e.Error) > 0)
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// firstByte is the first non-space byte of a message body (0 if none).
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func (p *proxy) fromClient(ctx context.Context, m Message) {
	if m.Blank() {
		return // not a message (servers answer it with a parse error)
	}
	switch firstByte(m.Body) {
	case '{':
		var e envelope
		if json.Unmarshal(m.Body, &e) != nil {
			break
		}
		if p.unanswerableCall(&e) {
			return
		}
		if e.isToolCall() {
			c, denied := p.admit(&e, m.Framing)
			if denied {
				p.toClient(Frame(p.denialBody(c), m.Framing))
				return
			}
			if c != nil {
				p.forward(ctx, m, []*call{c})
			}
			return
		}
		if e.Method == "notifications/cancelled" {
			p.clientCancelled(e.Params)
		}
	case '[':
		p.fromClientBatch(ctx, m)
		return
	}
	p.forward(ctx, m, nil)
}

// fromClientBatch handles a JSON-RPC batch: each tools/call in it is
// admitted on its own; calls denied in enforce mode are answered by the
// proxy (in one batch) and the rest is forwarded, unchanged when nothing
// was denied.
func (p *proxy) fromClientBatch(ctx context.Context, m Message) {
	var elems []json.RawMessage
	if json.Unmarshal(m.Body, &elems) != nil {
		p.forward(ctx, m, nil)
		return
	}
	var calls []*call
	var keep []json.RawMessage
	var denials []json.RawMessage
	dropped := false
	for _, el := range elems {
		var e envelope
		if json.Unmarshal(el, &e) == nil && p.unanswerableCall(&e) {
			dropped = true
			continue
		}
		if json.Unmarshal(el, &e) == nil && e.isToolCall() {
			c, denied := p.admit(&e, m.Framing)
			if denied {
				denials = append(denials, p.denialBody(c))
				continue
			}
			if c == nil {
				continue
			}
			calls = append(calls, c)
		} else if json.Unmarshal(el, &e) == nil && e.Method == "notifications/cancelled" {
			p.clientCancelled(e.Params)
		}
		keep = append(keep, el)
	}
	if len(denials) > 0 || dropped {
		if len(denials) > 0 {
			p.toClient(Frame(joinArray(denials), m.Framing))
		}
		if len(keep) == 0 {
			return
		}
		body := joinArray(keep)
		m = Message{Raw: Frame(body, m.Framing), Body: body, Framing: m.Framing}
	}
	p.forward(ctx, m, calls)
}

func joinArray(elems []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// unanswerableCall reports whether e is a tools/call without an id (or
// with a null id) that an enforcing policy drops: it can get no answer, so
// no receipt, and a server that ran it anyway would bypass the policy.
func (p *proxy) unanswerableCall(e *envelope) bool {
	if e.Method != "tools/call" || (len(e.ID) > 0 && !isNull(e.ID)) || p.eval == nil || !p.o.Policy.Enforce() {
		return false
	}
	p.log.Warn().Msg("a tools/call without an id was dropped (enforce mode forwards no call it cannot check and receipt)")
	return true
}

// admit registers a tools/call and applies the policy. When the call is
// denied in enforce mode it is recorded here and denied is true: the caller
// answers the client. After the session has ended, the call is answered
// with an error and c is nil.
func (p *proxy) admit(e *envelope, f Framing) (c *call, denied bool) {
	now := time.Now()
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	if stopped {
		p.log.Warn().Msg("a tool call arrived after the MCP server ended; answered with an error, not forwarded")
		p.toClient(Frame(errorBody(e.ID, CodeServerGone, "the MCP server has ended; the call was not forwarded", nil), f))
		return nil, false
	}
	var params struct {
		Name      any             `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	_ = json.Unmarshal(e.Params, &params)
	tool, _ := params.Name.(string)
	c = &call{rawID: e.ID, tool: tool, framing: f, requestAt: now, invocation: receipt.NewID("inv_", 16)}
	if v, err := canon.Decode(e.ID); err == nil {
		c.id = v
	}
	c.idKey = canonKey(e.ID)
	argDoc := []byte(params.Arguments)
	if len(argDoc) == 0 || isNull(params.Arguments) {
		argDoc = []byte("{}")
	}
	var canonArgs []byte
	if v, err := canon.Decode(argDoc); err == nil {
		if b, err := canon.Marshal(v); err == nil {
			c.args, canonArgs = v, b
			c.argsHash = "sha256:" + receipt.SHA256Hex(b)
		}
	}
	if canonArgs == nil {
		// Not canonicalisable (e.g. a lone surrogate): hash and match the
		// bytes as sent, and keep no cleartext.
		canonArgs = argDoc
		c.argsHash = "sha256:" + receipt.SHA256Hex(argDoc)
	}
	if p.eval != nil {
		d := p.eval.Evaluate(c.tool, canonArgs, now)
		c.decision = &d
		c.decidedAt = time.Now()
		if d.Verdict == "deny" {
			if p.o.Policy.Enforce() {
				p.deny(c)
				return c, true
			}
			p.mu.Lock()
			p.sess.WouldDeny++
			p.mu.Unlock()
			p.log.Info().Str("tool", c.tool).Str("reason", d.Reason).Msg("audit mode: the policy would deny this call; forwarded")
		}
	}
	p.mu.Lock()
	p.sess.ToolCalls++
	if _, dup := p.pending[c.idKey]; dup {
		p.log.Warn().Str("id", c.idKey).Msg("the client reused the id of a call still in flight; the earlier call is recorded as abandoned")
		p.resolveLocked(p.pending[c.idKey], OutcomeError, nil, true, time.Now(), "the client reused this request id before the response arrived")
	}
	p.pending[c.idKey] = c
	delete(p.expired, c.idKey)
	if p.o.CallTimeout > 0 {
		c.timer = time.AfterFunc(p.o.CallTimeout, func() { p.timeout(c) })
	}
	p.mu.Unlock()
	return c, false
}

// canonKey is the canonical JSON of an id, so 1 and 1.0 or differently
// escaped strings match the same call.
func canonKey(raw json.RawMessage) string {
	if v, err := canon.Decode(raw); err == nil {
		if b, err := canon.Marshal(v); err == nil {
			return string(b)
		}
	}
	return string(bytes.TrimSpace(raw))
}

// deny records an enforced denial.
func (p *proxy) deny(c *call) {
	d := c.decision
	p.mu.Lock()
	p.sess.ToolCalls++
	p.mu.Unlock()
	p.log.Info().Str("tool", c.tool).Str("reason", d.Reason).Msg("denied by policy")
	result := map[string]any{"denied": true, "reason": d.Reason, "detail": d.Detail}
	p.record(c, OutcomeDenied, result, true, c.decidedAt, "")
}

// denialBody is the JSON-RPC error a denied call gets.
func (p *proxy) denialBody(c *call) []byte {
	d := c.decision
	return errorBody(c.rawID, CodeDenied, "Tool call denied by policy: "+d.Reason, map[string]any{
		"detail": d.Detail, "reason": d.Reason, "rule": d.Rule, "policy_ref": p.o.Policy.Path,
	})
}

func errorBody(id json.RawMessage, code int, msg string, data any) []byte {
	e := map[string]any{"code": code, "message": msg}
	if data != nil {
		e["data"] = data
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": e})
	return b
}

// forward sends a client message to the server. If the server cannot take
// it, the calls it carried are answered with an error.
func (p *proxy) forward(ctx context.Context, m Message, calls []*call) {
	if sf := Framing(p.serverFraming.Load()); m.Framing != sf {
		if m.Blank() {
			return // a blank line means nothing in the other framing
		}
		m = reframe(m, sf)
	}
	p.sendMu.Lock()
	err := p.up.Send(ctx, m)
	p.sendMu.Unlock()
	if err == nil {
		return
	}
	if !p.sendFailed.Swap(true) { // once: a gone server fails every send
		p.log.Warn().Err(err).Msg("could not deliver a message to the MCP server")
	}
	p.markIncomplete("a message could not be delivered to the MCP server")
	for _, c := range calls {
		p.fail(c, "could not deliver the call to the MCP server: "+err.Error(), CodeServerGone)
	}
}

// fail resolves a pending call that will get no response from the server:
// it is recorded as an error and the client gets a JSON-RPC error.
func (p *proxy) fail(c *call, detail string, code int) {
	p.mu.Lock()
	cur, ok := p.pending[c.idKey]
	if !ok || cur != c {
		p.mu.Unlock()
		return
	}
	p.resolveLocked(c, OutcomeError, nil, true, time.Now(), detail)
	p.mu.Unlock()
	p.toClient(Frame(errorBody(c.rawID, code, detail, nil), c.framing))
}

func (p *proxy) clientCancelled(params json.RawMessage) {
	var v struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &v) != nil || len(v.RequestID) == 0 {
		return
	}
	key := canonKey(v.RequestID)
	p.mu.Lock()
	defer p.mu.Unlock()
	// The call stays pending: servers often answer a cancelled call anyway
	// (the answer is forwarded, so it is recorded), and one that does not
	// is recorded as cancelled when the session ends.
	if c, ok := p.pending[key]; ok && !c.cancelled {
		c.cancelled = true
		if c.timer != nil {
			c.timer.Stop()
		}
	}
}

// timeout answers a call the server did not answer in time, and tells the
// server the request is cancelled.
func (p *proxy) timeout(c *call) {
	p.mu.Lock()
	if cur, ok := p.pending[c.idKey]; !ok || cur != c || c.cancelled {
		p.mu.Unlock()
		return
	}
	detail := fmt.Sprintf("no response from the MCP server within %s (--call-timeout)", p.o.CallTimeout)
	p.resolveLocked(c, OutcomeTimeout, map[string]any{"timeout": true, "after_ms": p.o.CallTimeout.Milliseconds()}, true, time.Now(), detail)
	p.expired[c.idKey] = true
	p.mu.Unlock()
	p.markIncomplete("a tool call got no response within --call-timeout")
	p.log.Warn().Str("tool", c.tool).Dur("after", p.o.CallTimeout).Msg("tool call timed out; the client gets an error and the server a cancellation")
	p.toClient(Frame(errorBody(c.rawID, CodeTimeout, detail, nil), c.framing))
	cancel, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{
		"requestId": c.rawID, "reason": detail,
	}})
	p.sendMu.Lock()
	sf := Framing(p.serverFraming.Load())
	_ = p.up.Send(context.Background(), Message{Raw: Frame(cancel, sf), Body: cancel, Framing: sf})
	p.sendMu.Unlock()
}

// abandonPending resolves the calls still open when the session ends.
func (p *proxy) abandonPending(ended string) {
	p.mu.Lock()
	var open []*call
	for _, c := range p.pending {
		if c.cancelled {
			// The client gave up on it and expects no answer.
			p.resolveLocked(c, OutcomeError, nil, true, time.Now(), "cancelled by the client; the server did not answer")
			continue
		}
		open = append(open, c)
	}
	p.mu.Unlock()
	if len(open) == 0 {
		return
	}
	sort.Slice(open, func(i, j int) bool { return open[i].requestAt.Before(open[j].requestAt) })
	detail := "the MCP server ended before responding (" + p.sess.ServerExit.Detail + ")"
	if ended != "server" {
		detail = "the session ended before the MCP server responded (server " + p.sess.ServerExit.Detail + ")"
	}
	p.markIncomplete(fmt.Sprintf("%d tool call(s) got no response", len(open)))
	for _, c := range open {
		p.fail(c, detail, CodeServerGone)
	}
}

// ---- server -> client ----

func (p *proxy) pumpServer() {
	for {
		m, err := p.up.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Warn().Err(err).Msg("reading the MCP server failed")
				p.markIncomplete("the MCP server's output could not be read: " + err.Error())
			}
			return
		}
		p.fromServer(m)
	}
}

func (p *proxy) fromServer(m Message) {
	if len(m.Raw) > 0 && !m.Blank() {
		p.serverFraming.Store(int32(m.Framing))
	}
	if m.Blank() {
		// Not a message: clients that parse every line would choke on it.
		return
	}
	switch firstByte(m.Body) {
	case '{':
		var e envelope
		if json.Unmarshal(m.Body, &e) != nil {
			p.garbage(m)
			return
		}
		if e.isResponse() && !p.response(&e, m.Synthetic) {
			return
		}
	case '[':
		var elems []json.RawMessage
		if json.Unmarshal(m.Body, &elems) != nil {
			p.garbage(m)
			return
		}
		for _, el := range elems {
			var e envelope
			if json.Unmarshal(el, &e) == nil && e.isResponse() {
				p.response(&e, m.Synthetic)
			}
		}
	default:
		p.garbage(m)
		return
	}
	p.toClientMsg(m)
}

// garbage drops server output that is not a JSON-RPC message: forwarding it
// would break the client's parser. Its content is not logged (it could be
// anything, secrets included), only its size.
func (p *proxy) garbage(m Message) {
	p.mu.Lock()
	p.sess.GarbageMessages++
	n := p.sess.GarbageMessages
	p.mu.Unlock()
	p.log.Warn().Int("bytes", len(m.Body)).Int("count", n).Msg("the MCP server wrote something that is not JSON-RPC to stdout; dropped (servers must log to stderr)")
	p.markIncomplete("the MCP server wrote non-JSON-RPC output to stdout")
}

// response matches a server response to its pending call and records it.
// It reports whether the message should reach the client (a late answer to
// a call the proxy already answered with a timeout does not).
func (p *proxy) response(e *envelope, synthetic string) bool {
	if synthetic != "" {
		// The transport answered for a server it could not reach: the
		// call has no real response.
		p.markIncomplete("the MCP server could not be reached for a call: " + synthetic)
	}
	key := canonKey(e.ID)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.pending[key]
	if !ok {
		if p.expired[key] {
			delete(p.expired, key)
			p.log.Info().Str("id", key).Msg("late response to a timed-out call; dropped (the client already got an error)")
			return false
		}
		return true
	}
	outcome := OutcomeForwarded
	var doc []byte = e.Result
	isErr := false
	if len(e.Error) > 0 && !isNull(e.Error) {
		outcome, doc, isErr = OutcomeError, e.Error, true
	}
	var result any
	if v, err := canon.Decode(doc); err == nil {
		result = v
		// isError read from the decoded result: a second encoding/json
		// pass over a large result cost as much as hashing it.
		if o, ok := v.(*canon.Object); ok && !isErr {
			if ie, _ := o.Get("isError"); ie == true {
				outcome, isErr = OutcomeError, true
			}
		}
	} else {
		result = rawResult(doc)
		var r struct {
			IsError bool `json:"isError"`
		}
		if !isErr && json.Unmarshal(doc, &r) == nil && r.IsError {
			outcome, isErr = OutcomeError, true
		}
	}
	detail := ""
	if c.cancelled {
		detail = "the client cancelled the call; the server answered anyway"
	}
	if synthetic != "" {
		detail = "no response from the MCP server: " + synthetic
	}
	p.resolveLocked(c, outcome, result, isErr, now, detail)
	return true
}

// rawResult stands for a result that is not canonical JSON: its hash is
// over the bytes.
type rawResult []byte

// resolveLocked removes c from the pending calls and records it. p.mu held.
func (p *proxy) resolveLocked(c *call, outcome string, result any, isErr bool, at time.Time, detail string) {
	delete(p.pending, c.idKey)
	if c.timer != nil {
		c.timer.Stop()
	}
	p.recordLocked(c, outcome, result, isErr, at, detail)
}

func (p *proxy) record(c *call, outcome string, result any, isErr bool, at time.Time, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked(c, outcome, result, isErr, at, detail)
}

// recordLocked builds the mcp_tool_call receipt (runtime.md §7.2 fields,
// plus outcome_detail, policy_mode and policy_rule) and queues it for the
// recorder. p.mu held.
func (p *proxy) recordLocked(c *call, outcome string, result any, isErr bool, at time.Time, detail string) {
	if p.stopped {
		// Unreachable by construction (every call is resolved before the
		// recorder stops); said loudly rather than lost quietly.
		p.lost.Add(1)
		p.log.Error().Str("tool", c.tool).Msg("EVIDENCE LOST: a tool call resolved after the session ended")
		return
	}
	p.sess.Outcomes[outcome]++
	d := &canon.Object{}
	d.Set("seq", p.seq.Add(1)-1)
	d.Set("parent_receipt_id", nil)
	d.Set("invocation_id", c.invocation)
	d.Set("session_id", p.o.SessionID)
	d.Set("trace_id", p.o.TraceID)
	d.Set("server_id", p.o.ServerID)
	d.Set("server_transport", p.up.Transport())
	d.Set("tool_name", c.tool)
	d.Set("mcp_request_id", c.id)
	d.Set("request_observed_at", receipt.Timestamp(c.requestAt))
	if c.decidedAt.IsZero() {
		d.Set("policy_decided_at", nil)
	} else {
		d.Set("policy_decided_at", receipt.Timestamp(c.decidedAt))
	}
	d.Set("response_observed_at", receipt.Timestamp(at))
	d.Set("arguments_hash", c.argsHash)
	if p.o.StoreArgs && c.args != nil {
		d.Set("arguments_content", c.args)
	} else {
		d.Set("arguments_content", nil)
	}
	var resultHash any
	switch r := result.(type) {
	case nil:
		if detail != "" {
			result = map[string]any{"error": detail}
			resultHash, _ = receipt.HashValue(result)
		}
	case rawResult:
		resultHash = "sha256:" + receipt.SHA256Hex(r)
		result = nil
	default:
		h, err := receipt.HashValue(r)
		if err != nil {
			resultHash = nil
		} else {
			resultHash = h
		}
	}
	d.Set("result_hash", resultHash)
	if p.o.StoreResults && result != nil {
		if v, err := canon.Decode(mustJSON(result)); err == nil {
			d.Set("result_content", v)
		} else {
			d.Set("result_content", nil)
		}
	} else {
		d.Set("result_content", nil)
	}
	d.Set("result_is_error", isErr)
	d.Set("outcome", outcome)
	if detail != "" {
		d.Set("outcome_detail", detail)
	}
	dur := 0.0
	if outcome != OutcomeDenied {
		dur = float64(at.Sub(c.requestAt).Microseconds()) / 1000
	}
	d.Set("duration_ms", canon.Number(fmt.Sprintf("%.1f", dur)))
	if c.decision == nil {
		d.Set("policy_verdict", "no_policy")
		d.Set("policy_reason", nil)
		d.Set("policy_ref", nil)
		d.Set("policy_hash", nil)
	} else {
		d.Set("policy_verdict", c.decision.Verdict)
		d.Set("policy_reason", nilIfEmpty(c.decision.Reason))
		d.Set("policy_ref", p.o.Policy.Path)
		d.Set("policy_hash", p.o.Policy.Hash)
		d.Set("policy_mode", p.o.Policy.Mode)
		d.Set("policy_rule", nilIfEmpty(c.decision.Rule))
	}
	d.Set("proxy_version", proxyVersion())
	d.Set("integration_source", IntegrationSource)
	d.Set("receipt_id", receipt.NewID("mtc_", 16))
	d.Set("timestamp", receipt.Timestamp(at))
	p.rec <- d
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func mustJSON(v any) []byte {
	if b, err := canon.Marshal(v); err == nil {
		return b
	}
	b, _ := json.Marshal(v)
	return b
}

// recorder writes queued receipts to the store, one at a time, off the
// forwarding path. A receipt that cannot be written is said loudly and
// makes the session incomplete.
func (p *proxy) recorder() {
	defer close(p.recDone)
	for d := range p.rec {
		if d == nil {
			return
		}
		id, _ := d.Get("receipt_id")
		ts, _ := d.Get("timestamp")
		d.Delete("receipt_id")
		d.Delete("timestamp")
		_, err := p.o.Store.Emit(p.o.TraceID, "mcp_tool_call", d, store.EmitOptions{ReceiptID: id.(string), Timestamp: ts.(string)})
		if err != nil {
			p.lost.Add(1)
			p.log.Error().Err(err).Str("trace_id", p.o.TraceID).Msg("EVIDENCE LOST: a tool-call receipt could not be written")
			p.markIncomplete("receipts could not be written to the store")
			continue
		}
		p.written.Add(1)
	}
}

// writeSessionMetadata appends the session_metadata receipt: the signed
// statement of whether the session completed and why not.
func (p *proxy) writeSessionMetadata(end time.Time) {
	p.incMu.Lock()
	if p.lost.Load() > 0 {
		p.incomplete = appendOnce(p.incomplete, "receipts could not be written to the store")
	}
	reasons := append([]string{}, p.incomplete...)
	p.incMu.Unlock()
	p.mu.Lock()
	s := p.sess
	d := &canon.Object{}
	d.Set("seq", p.seq.Add(1)-1)
	d.Set("session_id", s.SessionID)
	d.Set("trace_id", s.TraceID)
	d.Set("server_id", s.ServerID)
	d.Set("server_transport", s.Transport)
	d.Set("session_complete", len(reasons) == 0)
	rs := make([]any, len(reasons))
	for i, r := range reasons {
		rs[i] = r
	}
	d.Set("incomplete_reasons", rs)
	d.Set("receipt_count", p.written.Load())
	d.Set("tool_calls", s.ToolCalls)
	oc := &canon.Object{}
	keys := make([]string, 0, len(s.Outcomes))
	for k := range s.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		oc.Set(k, s.Outcomes[k])
	}
	d.Set("outcomes", oc)
	d.Set("started_at", s.StartedAt)
	d.Set("ended_at", s.EndedAt)
	se := &canon.Object{}
	se.Set("code", s.ServerExit.Code)
	se.Set("killed", s.ServerExit.Killed)
	se.Set("detail", s.ServerExit.Detail)
	d.Set("server_exit", se)
	d.Set("policy_mode", s.PolicyMode)
	if p.o.Policy != nil {
		d.Set("policy_ref", p.o.Policy.Path)
		d.Set("policy_hash", p.o.Policy.Hash)
	} else {
		d.Set("policy_ref", nil)
		d.Set("policy_hash", nil)
	}
	d.Set("proxy_version", proxyVersion())
	d.Set("integration_source", IntegrationSource)
	p.mu.Unlock()
	_, err := p.o.Store.Emit(s.TraceID, "session_metadata", d, store.EmitOptions{ReceiptID: receipt.NewID("smd_", 16), Timestamp: receipt.Timestamp(end)})
	if err != nil {
		p.lost.Add(1)
		p.markIncomplete("the session_metadata receipt could not be written")
		p.log.Error().Err(err).Msg("EVIDENCE LOST: the session_metadata receipt could not be written")
		return
	}
	p.written.Add(1)
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// ---- writing to the client ----

// toClientMsg forwards a server message: its bytes unchanged, or, for an
// upstream without stdio framing, its body in the client's framing.
func (p *proxy) toClientMsg(m Message) {
	cf := Framing(p.clientFraming.Load())
	if m.Blank() && (len(m.Raw) == 0 || m.Framing != cf) {
		return
	}
	p.toClient(reframe(m, cf).Raw)
}

// reframe returns m framed with f: unchanged when it already is (the
// bytes as they came), else its body in framing f, so that a client using
// Content-Length framing can talk to an MCP stdio server, which reads and
// writes one message per line. A multi-line body becomes one line by
// dropping the whitespace between JSON tokens (json.Compact), the only
// change made to a message's content.
func reframe(m Message, f Framing) Message {
	if len(m.Raw) > 0 && m.Framing == f {
		return m
	}
	body := m.Body
	if f == NDJSON && bytes.ContainsAny(body, "\r\n") {
		var b bytes.Buffer
		if json.Compact(&b, body) == nil {
			body = b.Bytes()
		}
	}
	return Message{Raw: Frame(body, f), Body: body, Framing: f}
}

func (p *proxy) toClient(b []byte) {
	if p.clientGone.Load() {
		return
	}
	p.outMu.Lock()
	_, err := p.o.ClientOut.Write(b)
	p.outMu.Unlock()
	if err != nil && !p.clientGone.Swap(true) {
		p.log.Warn().Err(err).Msg("the client stopped reading; the rest of the session is recorded but not delivered")
		p.markIncomplete("the client disconnected before the session ended")
	}
}

// DescribeOutcomes is "2 forwarded, 1 denied" for a summary line.
func (s *Session) DescribeOutcomes() string {
	var parts []string
	for _, k := range []string{OutcomeForwarded, OutcomeError, OutcomeDenied, OutcomeTimeout} {
		if s.Outcomes[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.Outcomes[k], k))
		}
	}
	if len(parts) == 0 {
		return "no tool calls"
	}
	return strings.Join(parts, ", ")
}

func proxyVersion() string { return version.Version }
