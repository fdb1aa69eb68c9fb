package otlpout

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

// Options say where spans go. With no Endpoint the standard
// OTEL_EXPORTER_OTLP_* variables apply (endpoint, per-signal endpoint,
// protocol http/protobuf or http/json, headers, timeout, compression,
// certificates), read through Getenv as the official OTLP/HTTP exporter
// reads them (config.go).
type Options struct {
	// Endpoint is a base URL like OTEL_EXPORTER_OTLP_ENDPOINT: /v1/traces
	// is appended to its path (a URL already ending in /v1/traces is kept).
	Endpoint string
	// JSON sends OTLP/JSON instead of protobuf (default: the protocol
	// variables, else protobuf).
	JSON    bool
	Service string              // service.name (default "assay")
	Getenv  func(string) string // default os.Getenv

	retryMin time.Duration                // tests: first backoff (default 5 s)
	readFile func(string) ([]byte, error) // tests: default os.ReadFile
}

// Configured reports whether the options or the environment name an OTLP
// endpoint, i.e. whether live export is asked for.
func (o Options) Configured() bool {
	if o.Endpoint != "" {
		return true
	}
	g := o.getenv()
	return g("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || g("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

func (o Options) getenv() func(string) string {
	if o.Getenv != nil {
		return o.Getenv
	}
	return os.Getenv
}

// tracesURL turns a base endpoint into the traces URL.
func tracesURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", exit.Bad("give an http:// or https:// URL, e.g. --otlp-endpoint http://127.0.0.1:4318", "invalid OTLP endpoint %q", redactURL(base))
	}
	if !strings.HasSuffix(u.Path, "/v1/traces") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// redactURL drops user info and query from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// Check validates the options and the OTEL_EXPORTER_OTLP_* variables
// without connecting: a bad endpoint, protocol, header list, timeout,
// compression or certificate is bad input before anything runs. With no
// endpoint configured only the protocol is checked (as it always was):
// the other variables may be meant for another program.
func (o Options) Check() error {
	if !o.Configured() {
		if v, k := lookup(o.getenv(), "PROTOCOL"); v != "" && v != "http/protobuf" && v != "http/json" {
			return errProtocol(k, v)
		}
		return nil
	}
	_, err := o.config()
	return err
}

// Result counts an export.
type Result struct {
	Spans        int      `json:"spans"`
	Skipped      int      `json:"skipped"` // receipts that could not become spans
	OTelTraceIDs []string `json:"otel_trace_ids"`
	// Rejected is how many of the sent spans the endpoint said it refused
	// (OTLP partial success), with its message.
	Rejected        int64  `json:"rejected_spans,omitempty"`
	RejectedMessage string `json:"rejected_message,omitempty"`
}

// batch is how many spans go in one OTLP request.
const batch = 512

// Export sends every receipt of each (one span each) and waits until the
// backend has accepted them.
func Export(ctx context.Context, o Options, c Context, each func(func(*canon.Object) error) error) (Result, error) {
	var res Result
	exp, err := NewExporter(ctx, o)
	if err != nil {
		return res, err
	}
	defer exp.Close()
	seen := map[[16]byte]bool{}
	pending := make([]*SpanData, 0, batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		rej, msg, err := exp.Send(ctx, pending)
		if err != nil {
			return fmt.Errorf("exporting spans: %w", err)
		}
		res.Spans += len(pending)
		if rej > 0 || msg != "" {
			res.Rejected += rej
			res.RejectedMessage = msg
		}
		clear(pending)
		pending = pending[:0]
		return nil
	}
	err = each(func(r *canon.Object) error {
		sp, err := Span(r, c)
		if err != nil {
			res.Skipped++
			return nil
		}
		if !seen[sp.TraceID] {
			seen[sp.TraceID] = true
			res.OTelTraceIDs = append(res.OTelTraceIDs, fmt.Sprintf("%x", sp.TraceID))
		}
		pending = append(pending, sp)
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return res, err
}

// Live bounds: the OTel SDK batch span processor's defaults.
const (
	liveQueue    = 2048
	liveInterval = time.Second
	liveClose    = 10 * time.Second
)

// Live exports receipts as they are written, batched in the background
// (as the SDK's batch span processor did: a queue of 2048, batches of up
// to 512 every second or as soon as one is full). Receipt never blocks
// the caller: when the backend is slower than the receipts, spans are
// dropped from the export (never from the trace store, which stays the
// evidence) and counted.
type Live struct {
	exp *Exporter
	c   Context

	mu     sync.Mutex
	queue  []*SpanData
	closed bool

	kick   chan struct{} // a full batch is waiting
	stop   chan struct{} // Close: send what is queued and return
	done   chan struct{} // the sender returned
	ctx    context.Context
	cancel context.CancelFunc

	sent, bad, dropped atomic.Int64
	closeWait          time.Duration // liveClose; tests shorten it

	// Written by the sender goroutine only; read after done.
	failed   int64
	lastErr  error
	rejected int64
	rejMsg   string
}

// StartLive starts a live exporter.
func StartLive(ctx context.Context, o Options, c Context) (*Live, error) {
	exp, err := NewExporter(ctx, o)
	if err != nil {
		return nil, err
	}
	// The sender outlives a cancelled ctx: Close still flushes (bounded).
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &Live{exp: exp, c: c, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), ctx: sctx, cancel: cancel, closeWait: liveClose}
	go l.run()
	return l, nil
}

// Receipt queues the span of one stored receipt.
func (l *Live) Receipt(traceID string, r *canon.Object) {
	c := l.c
	if c.TraceID == "" {
		c.TraceID = traceID
	}
	sp, err := Span(r, c)
	if err != nil {
		l.bad.Add(1)
		return
	}
	l.mu.Lock()
	if l.closed || len(l.queue) >= liveQueue {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	l.queue = append(l.queue, sp)
	full := len(l.queue) >= batch
	l.mu.Unlock()
	l.sent.Add(1)
	if full {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Queued is how many spans were handed to the exporter (queued, not
// dropped).
func (l *Live) Queued() int64 { return l.sent.Load() }

// Dropped is how many spans were dropped because the queue was full.
func (l *Live) Dropped() int64 { return l.dropped.Load() }

// run is the sender: a batch every second, or as soon as one is full;
// everything on stop.
func (l *Live) run() {
	defer close(l.done)
	t := time.NewTicker(liveInterval)
	defer t.Stop()
	for {
		select {
		case <-l.kick:
			l.send(false)
		case <-t.C:
			l.send(true)
		case <-l.stop:
			l.send(true)
			return
		}
	}
}

// send exports what is queued in batches of up to 512: all of it, or
// (all=false) only full batches.
func (l *Live) send(all bool) {
	for l.ctx.Err() == nil {
		l.mu.Lock()
		n := min(len(l.queue), batch)
		if n == 0 || (!all && n < batch) {
			l.mu.Unlock()
			return
		}
		b := make([]*SpanData, n)
		copy(b, l.queue)
		rest := copy(l.queue, l.queue[n:])
		clear(l.queue[rest:])
		l.queue = l.queue[:rest]
		l.mu.Unlock()
		rej, msg, err := l.exp.Send(l.ctx, b)
		if err != nil {
			l.failed += int64(n)
			l.lastErr = err
			continue
		}
		if rej > 0 || msg != "" {
			l.rejected += rej
			l.rejMsg = msg
		}
	}
}

// Close flushes what is queued (at most 10 s) and stops. The error says
// what did not reach the endpoint (export failures, partial successes,
// spans dropped from a full queue); the store keeps every receipt.
func (l *Live) Close() error {
	l.mu.Lock()
	already := l.closed
	l.closed = true
	l.mu.Unlock()
	if already {
		return nil
	}
	close(l.stop)
	t := time.NewTimer(l.closeWait)
	defer t.Stop()
	timedOut := false
	select {
	case <-l.done:
	case <-t.C:
		timedOut = true
		l.cancel()
		<-l.done
	}
	l.cancel()
	l.exp.Close()
	if timedOut {
		return fmt.Errorf("the OTLP endpoint did not take the spans within 10 s")
	}
	var msgs []string
	if l.failed > 0 {
		msgs = append(msgs, fmt.Sprintf("%d of %d spans were not exported: %v", l.failed, l.sent.Load(), l.lastErr))
	}
	if l.rejected > 0 || l.rejMsg != "" {
		m := fmt.Sprintf("the OTLP endpoint rejected %d spans", l.rejected)
		if l.rejMsg != "" {
			m += ": " + l.rejMsg
		}
		msgs = append(msgs, m)
	}
	if d := l.dropped.Load(); d > 0 {
		msgs = append(msgs, fmt.Sprintf("%d spans were dropped (the OTLP endpoint was slower than the receipts)", d))
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
