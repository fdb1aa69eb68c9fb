package otlpin

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// DefaultMaxBodyBytes bounds a request body after decompression (the
// OTLP specification's recommended 64 MiB would let one request hold 64 MiB
// of spans in memory; 16 MiB is well above what SDK batchers send).
const DefaultMaxBodyBytes = 16 << 20

// ServerOptions configure the receiver.
type ServerOptions struct {
	Sink         *Sink           // required
	Convert      Options         // mapping options (content opt-in)
	MaxBodyBytes int64           // default DefaultMaxBodyBytes
	Logger       *zerolog.Logger // default: disabled
}

// Stats are a receiver's counters.
type Stats struct {
	Requests   int64 `json:"requests"`
	Rejected   int64 `json:"requests_rejected"`
	Spans      int64 `json:"spans"`
	Receipts   int64 `json:"receipts_written"`
	Duplicates int64 `json:"duplicates_dropped"`
	LogRecords int64 `json:"log_records_ignored"`
	StoreFails int64 `json:"store_failures"`
}

// Handler is the OTLP/HTTP receiver: POST /v1/traces and /v1/logs, each in
// protobuf or JSON, optionally gzip-compressed; the answer uses the
// request's encoding. Bad data is 400 with a google.rpc.Status (not
// retried by exporters); a store failure is 503 (retried, and the retry
// deduplicated), so evidence is never dropped in silence.
type Handler struct {
	o     ServerOptions
	log   zerolog.Logger
	stats struct {
		requests, rejected, spans, receipts, dups, logs, storeFails atomic.Int64
	}
}

// NewHandler returns the receiver.
func NewHandler(o ServerOptions) (*Handler, error) {
	if o.Sink == nil {
		return nil, errors.New("otlpin: a sink is required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{o: o, log: zerolog.Nop()}
	if o.Logger != nil {
		h.log = *o.Logger
	}
	return h, nil
}

// Stats returns the counters.
func (h *Handler) Stats() Stats {
	return Stats{
		Requests: h.stats.requests.Load(), Rejected: h.stats.rejected.Load(), Spans: h.stats.spans.Load(),
		Receipts: h.stats.receipts.Load(), Duplicates: h.stats.dups.Load(), LogRecords: h.stats.logs.Load(),
		StoreFails: h.stats.storeFails.Load(),
	}
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, a ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, a...)}
}

// readBody returns the decompressed body, at most max bytes.
func readBody(r *http.Request, max int64) ([]byte, *httpError) {
	var src io.Reader = http.MaxBytesReader(nil, r.Body, max)
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "the body is not gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fail(http.StatusUnsupportedMediaType, "Content-Encoding %q is not supported; send gzip or no encoding", r.Header.Get("Content-Encoding"))
	}
	// Limit after decompression too: a small gzip bomb must not grow
	// past max in memory.
	b, err := io.ReadAll(io.LimitReader(src, max+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(b)) > max:
		return nil, fail(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes; lower the exporter's batch size", max)
	case err != nil:
		return nil, fail(http.StatusBadRequest, "reading the body: %v", err)
	}
	return b, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.stats.requests.Add(1)
	enc, ok := EncodingOf(r.Header.Get("Content-Type"))
	if !ok {
		h.reject(w, EncodingJSON, fail(http.StatusUnsupportedMediaType, "Content-Type %q is not OTLP; send application/x-protobuf or application/json", r.Header.Get("Content-Type")))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, enc, fail(http.StatusMethodNotAllowed, "OTLP/HTTP takes POST, not %s", r.Method))
		return
	}
	var herr *httpError
	switch r.URL.Path {
	case "/v1/traces":
		herr = h.traces(w, r, enc)
	case "/v1/logs":
		herr = h.logs(w, r, enc)
	case "/v1/metrics":
		herr = h.metrics(w, r, enc)
	default:
		herr = fail(http.StatusNotFound, "no OTLP endpoint at %s; this receiver serves /v1/traces, /v1/logs and /v1/metrics", r.URL.Path)
	}
	if herr != nil {
		h.reject(w, enc, herr)
	}
}

func (h *Handler) traces(w http.ResponseWriter, r *http.Request, enc Encoding) *httpError {
	body, herr := readBody(r, h.o.MaxBodyBytes)
	if herr != nil {
		return herr
	}
	td, err := DecodeTraces(body, enc)
	if err != nil {
		return fail(http.StatusBadRequest, "%v", err)
	}
	if err := h.record(td); err != nil {
		w.Header().Set("Retry-After", "1")
		return fail(http.StatusServiceUnavailable, "the receipt store failed; retry later")
	}
	return h.reply(w, enc, ptraceotlp.NewExportResponse())
}

// record converts decoded spans and writes their receipts, returning
// once they are durable; an error means some were not written (the
// exporter must be told to retry).
func (h *Handler) record(td ptrace.Traces) error {
	res := Convert(td, h.o.Convert)
	h.stats.spans.Add(int64(res.Spans))
	ws, err := h.o.Sink.Write(res.Receipts)
	h.stats.receipts.Add(int64(ws.Written))
	h.stats.dups.Add(int64(ws.Duplicates))
	if err != nil {
		h.stats.storeFails.Add(1)
		h.log.Error().Err(err).Int("receipts_written", ws.Written).Msg("assay otlp: receipts NOT written; the exporter is told to retry")
		return err
	}
	if ws.Written > 0 {
		ev := h.log.Info().Int("spans", res.Spans).Int("receipts", ws.Written)
		if ws.Duplicates > 0 {
			ev = ev.Int("duplicates", ws.Duplicates)
		}
		ev.Msg("assay otlp: recorded")
	}
	return nil
}

// logs accepts log records (Node's SDK exports them by default, and
// exporters retry what is refused) and counts them; content carried in log
// events is not read yet (docs/otel.md says so).
func (h *Handler) logs(w http.ResponseWriter, r *http.Request, enc Encoding) *httpError {
	body, herr := readBody(r, h.o.MaxBodyBytes)
	if herr != nil {
		return herr
	}
	ld, err := DecodeLogs(body, enc)
	if err != nil {
		return fail(http.StatusBadRequest, "%v", err)
	}
	h.stats.logs.Add(int64(ld.LogRecordCount()))
	return h.reply(w, enc, plogotlp.NewExportResponse())
}

// metrics accepts and drops metrics: `assay run --otlp` points the
// child's generic OTLP endpoint here, and an SDK whose metrics were refused
// would log errors at every interval. Receipts are not made from metrics.
func (h *Handler) metrics(w http.ResponseWriter, r *http.Request, enc Encoding) *httpError {
	body, herr := readBody(r, h.o.MaxBodyBytes)
	if herr != nil {
		return herr
	}
	req := pmetricotlp.NewExportRequest()
	var err error
	if enc == EncodingJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return fail(http.StatusBadRequest, "not an OTLP ExportMetricsServiceRequest: %v", err)
	}
	return h.reply(w, enc, pmetricotlp.NewExportResponse())
}

func (h *Handler) write(w http.ResponseWriter, enc Encoding, status int, body []byte) {
	if enc == EncodingJSON {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// reject answers with a google.rpc.Status in the request's encoding.
func (h *Handler) reject(w http.ResponseWriter, enc Encoding, e *httpError) {
	if e.status != http.StatusServiceUnavailable {
		h.stats.rejected.Add(1)
		h.log.Warn().Int("status", e.status).Str("reason", e.msg).Msg("assay otlp: request refused")
	}
	st := &spb.Status{Code: 3, Message: e.msg} // INVALID_ARGUMENT
	if e.status == http.StatusServiceUnavailable {
		st.Code = 14 // UNAVAILABLE
	}
	var body []byte
	if enc == EncodingJSON {
		body, _ = protojson.Marshal(st)
	} else {
		body, _ = proto.Marshal(st)
	}
	h.write(w, enc, e.status, body)
}

// Server is a running receiver.
type Server struct {
	*Handler
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	once sync.Once
	err  error
}

// Start listens on addr (host:port; port 0 picks a free one) and serves
// the receiver until Close or ctx ends.
func Start(ctx context.Context, addr string, o ServerOptions) (*Server, error) {
	h, err := NewHandler(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	s := &Server{Handler: h, ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	closeWhenDone(ctx, s.done, s.Close)
	return s, nil
}

// Addr is the listening address (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the base URL for OTEL_EXPORTER_OTLP_ENDPOINT (no path: exporters
// append /v1/traces and /v1/logs).
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close stops accepting, waits for in-flight requests (their receipts are
// written before it returns) and reports a serve error, if any.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		<-s.done
	})
	return s.err
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// exportResponse is what the three OTLP export responses have in common.
type exportResponse interface {
	MarshalJSON() ([]byte, error)
	MarshalProto() ([]byte, error)
}

// reply writes an export response in the request's encoding.
func (h *Handler) reply(w http.ResponseWriter, enc Encoding, resp exportResponse) *httpError {
	marshal := resp.MarshalProto
	if enc == EncodingJSON {
		marshal = resp.MarshalJSON
	}
	out, err := marshal()
	if err != nil {
		return fail(http.StatusInternalServerError, "encoding the response: %v", err)
	}
	h.write(w, enc, http.StatusOK, out)
	return nil
}

// closeWhenDone calls closeFn when ctx ends, unless the server stopped
// first (done closed). A nil ctx never ends.
func closeWhenDone(ctx context.Context, done <-chan struct{}, closeFn func() error) {
	if ctx == nil {
		return
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = closeFn()
		case <-done:
		}
	}()
}
