package otlpout

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

// Options say where spans go. With no Endpoint the standard
// OTEL_EXPORTER_OTLP_* variables apply (endpoint, per-signal endpoint,
// protocol http/protobuf or http/json, headers, timeout, compression,
// certificates), read by the official OTLP/HTTP exporter.
type Options struct {
	// Endpoint is a base URL like OTEL_EXPORTER_OTLP_ENDPOINT: /v1/traces
	// is appended to its path (a URL already ending in /v1/traces is kept).
	Endpoint string
	// JSON sends OTLP/JSON instead of protobuf (default: the protocol
	// variables, else protobuf).
	JSON    bool
	Service string              // service.name (default "assay")
	Getenv  func(string) string // default os.Getenv
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

// Check validates the options and the protocol variables without
// connecting: a bad endpoint is bad input before anything runs.
func (o Options) Check() error {
	g := o.getenv()
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(g(k)); v != "" {
			if v != "http/protobuf" && v != "http/json" {
				return exit.Bad("set it to http/protobuf or http/json (assay exports over OTLP/HTTP)", "%s=%s is not supported", k, v)
			}
			break
		}
	}
	if o.Endpoint != "" {
		_, err := tracesURL(o.Endpoint)
		return err
	}
	return nil
}

// NewExporter returns the official OTLP/HTTP span exporter for o.
func NewExporter(ctx context.Context, o Options) (sdktrace.SpanExporter, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	var opts []otlptracehttp.Option
	if o.Endpoint != "" {
		u, err := tracesURL(o.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	if o.JSON {
		opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, exit.Wrap(exit.BadInput, err, "check the OTEL_EXPORTER_OTLP_* variables")
	}
	return exp, nil
}

// Result counts an export.
type Result struct {
	Spans        int      `json:"spans"`
	Skipped      int      `json:"skipped"` // receipts that could not become spans
	OTelTraceIDs []string `json:"otel_trace_ids"`
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
	rsrc := Resource(o.Service)
	seen := map[string]bool{}
	var pending []sdktrace.ReadOnlySpan
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := exp.ExportSpans(ctx, pending); err != nil {
			return fmt.Errorf("exporting spans: %w", err)
		}
		res.Spans += len(pending)
		pending = pending[:0]
		return nil
	}
	err = each(func(r *canon.Object) error {
		sp, err := Span(r, c, rsrc)
		if err != nil {
			res.Skipped++
			return nil
		}
		if t := sp.SpanContext().TraceID().String(); !seen[t] {
			seen[t] = true
			res.OTelTraceIDs = append(res.OTelTraceIDs, t)
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := exp.Shutdown(sctx); err == nil && serr != nil {
		err = serr
	}
	return res, err
}

// Live exports receipts as they are written, batched in the background by
// the SDK's batch span processor. Export never blocks the caller: when the
// backend is slower than the receipts, spans are dropped from the export
// (never from the trace store, which stays the evidence) and counted.
type Live struct {
	bsp  sdktrace.SpanProcessor
	res  *resource.Resource
	c    Context
	sent atomic.Int64
	bad  atomic.Int64
}

// StartLive starts a live exporter.
func StartLive(ctx context.Context, o Options, c Context) (*Live, error) {
	exp, err := NewExporter(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Live{bsp: sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithBatchTimeout(time.Second)), res: Resource(o.Service), c: c}, nil
}

// Receipt queues the span of one stored receipt.
func (l *Live) Receipt(traceID string, r *canon.Object) {
	c := l.c
	if c.TraceID == "" {
		c.TraceID = traceID
	}
	sp, err := Span(r, c, l.res)
	if err != nil {
		l.bad.Add(1)
		return
	}
	l.sent.Add(1)
	l.bsp.OnEnd(sp)
}

// Queued is how many spans were handed to the exporter.
func (l *Live) Queued() int64 { return l.sent.Load() }

// Close flushes what is queued (at most 10 s) and stops.
func (l *Live) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := l.bsp.ForceFlush(ctx)
	if serr := l.bsp.Shutdown(ctx); err == nil {
		err = serr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the OTLP endpoint did not take the spans within 10 s")
	}
	return err
}
