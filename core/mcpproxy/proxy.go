package mcpproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// MaxMessage bounds one client line or frame (0: DefaultMaxMessage);
	// a longer one is refused with an error and a receipt, and skipped.
	MaxMessage int

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
	// Refused counts tools/call attempts the proxy refused before any
	// policy (malformed, oversized, before initialize); each has a
	// denied receipt.
	Refused int `json:"refused"`
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

	mu      sync.Mutex // guards pending, expired, closing, stopped and the counters in sess
	pending map[string]*call
	expired map[string]bool // ids answered by the proxy (timeout); a late response is dropped
	closing bool            // the open calls have been abandoned: no call is admitted any more
	stopped bool            // the session has ended: nothing more is recorded through rec
	sess    *Session

	incMu      sync.Mutex // guards incomplete; never held with mu by the recorder
	incomplete []string

	written, lost atomic.Int64 // receipts the recorder wrote or lost

	clientFraming  atomic.Int32
	serverFraming  atomic.Int32 // the framing of the server's last message (NDJSON until it speaks)
	clientEOF      atomic.Bool  // the client closed its input (not an interrupt)
	initSeen       atomic.Bool  // the client sent initialize: tools/call may follow
	sendFailedOnce atomic.Bool  // a send to the server has failed (warned once)
	outMu          sync.Mutex   // serialises writes to the client
	clientGone     atomic.Bool
	out            *sendQueue // what the sender goroutine writes to the server

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
		out:     newSendQueue(),
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
	p.writeSessionOpen(start)
	go p.recorder()
	go p.sender(ctx)

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
		if ended == "interrupt" {
			// Hurry: close the input now, which also unblocks a Send stuck
			// on a server that stopped reading.
			_ = p.up.CloseSend()
		} else {
			// After everything the client sent (the sender writes in order;
			// if it is stuck, the grace below bounds the wait).
			p.out.push(outbound{close: true})
		}
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
	p.out.shutdown() // nothing more reaches the server; what is left is abandoned below
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
