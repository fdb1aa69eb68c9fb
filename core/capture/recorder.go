package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// Recorder appends model_call receipts to a trace. In async mode the
// appends (each one fsyncs, DECISIONS 12) happen on a writer goroutine so
// a response never waits for the disk; Close waits until every queued
// receipt is durable. A receipt that cannot be written is logged loudly
// and counted as lost, never dropped in silence.
type Recorder struct {
	store   Sink
	traceID string // "" = read ASSAY_TRACE_ID at each write
	log     zerolog.Logger

	async  bool
	mu     sync.RWMutex // guards closed against concurrent sends on q
	closed bool
	q      chan *Call
	done   chan struct{}

	written atomic.Int64
	lost    atomic.Int64
	lastErr atomic.Value // string
}

// Sink is where a Recorder's receipts go: a *store.Store (appended to the
// trace file), or a recorder's client (core/recorder/client), which stores
// and seals each receipt before it answers.
type Sink interface {
	Emit(traceID, typ string, data *canon.Object, opt store.EmitOptions) (*receipt.Receipt, error)
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	Store   Sink            // required
	TraceID string          // "" = $ASSAY_TRACE_ID at each write (a new trace if unset)
	Async   bool            // write on a background goroutine; Close drains
	Logger  *zerolog.Logger // default: zerolog to stderr
}

// Stats are a recorder's counters.
type Stats struct {
	Written int64 `json:"receipts_written"`
	Lost    int64 `json:"receipts_lost"`
	Pending int64 `json:"receipts_pending"`
}

// NewRecorder returns a recorder writing to o.Store.
func NewRecorder(o RecorderOptions) (*Recorder, error) {
	if o.Store == nil || isNilStore(o.Store) {
		return nil, errors.New("capture: a store is required")
	}
	if o.TraceID != "" {
		if err := store.ValidTraceID(o.TraceID); err != nil {
			return nil, err
		}
	}
	r := &Recorder{store: o.Store, traceID: o.TraceID, async: o.Async}
	if o.Logger != nil {
		r.log = *o.Logger
	} else {
		r.log = zerolog.New(os.Stderr).With().Timestamp().Logger()
	}
	if r.async {
		r.q = make(chan *Call, 4096)
		r.done = make(chan struct{})
		go r.writer()
	}
	return r, nil
}

var fallbackTrace = struct {
	once sync.Once
	id   string
}{}

// TraceID is the trace the next receipt goes to.
func (r *Recorder) TraceID() string {
	if r.traceID != "" {
		return r.traceID
	}
	if id := os.Getenv(store.EnvTrace); id != "" {
		return id
	}
	// Like the reference: no ASSAY_TRACE_ID means a fresh random trace.
	fallbackTrace.once.Do(func() {
		fallbackTrace.id = store.NewTraceID()
		r.log.Warn().Str("trace_id", fallbackTrace.id).Msg("assay capture: ASSAY_TRACE_ID is not set; recording to a new trace")
	})
	return fallbackTrace.id
}

// Record writes (or queues) the receipt of c. It never blocks on the disk
// in async mode unless the queue is full.
func (r *Recorder) Record(c *Call) {
	if r.async {
		r.mu.RLock()
		if !r.closed {
			r.q <- c
			r.mu.RUnlock()
			return
		}
		r.mu.RUnlock()
	}
	r.write(c)
}

// BatchSink is a Sink that appends many receipts of one trace at once
// (*store.Store: one flush and fsync for the lot).
type BatchSink interface {
	EmitAll(traceID string, items []store.EmitItem) ([]*receipt.Receipt, []error)
}

// maxBatch bounds the receipts one write hands to a BatchSink.
const maxBatch = 512

// writer drains the queue. Under load it takes everything queued (up to
// maxBatch) and, when the sink can, appends it in one go: one fsync per
// batch instead of one per receipt, which is most of the writer's CPU when
// calls arrive faster than fsyncs complete.
func (r *Recorder) writer() {
	defer close(r.done)
	bs, batching := r.store.(BatchSink)
	for c := range r.q {
		if !batching {
			r.write(c)
			continue
		}
		batch := []*Call{c}
	more:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-r.q:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		r.writeAll(bs, batch)
	}
}

func (r *Recorder) item(c *Call) store.EmitItem {
	return store.EmitItem{Type: "model_call", Data: c.Data(), Opt: store.EmitOptions{
		ReceiptID: receipt.NewID("mcr_", 16),
		Timestamp: receipt.Timestamp(c.End),
	}}
}

func (r *Recorder) write(c *Call) {
	it := r.item(c)
	_, err := r.store.Emit(r.TraceID(), it.Type, it.Data, it.Opt)
	r.result(c, err)
}

func (r *Recorder) writeAll(bs BatchSink, batch []*Call) {
	items := make([]store.EmitItem, len(batch))
	for i, c := range batch {
		items[i] = r.item(c)
	}
	_, errs := bs.EmitAll(r.TraceID(), items)
	for i, c := range batch {
		r.result(c, errs[i])
	}
}

// result counts a write, and says loudly when a receipt was not written.
func (r *Recorder) result(c *Call, err error) {
	if err != nil {
		n := r.lost.Add(1)
		msg := fmt.Sprintf("%v", err)
		r.lastErr.Store(msg)
		r.log.Error().Str("trace_id", r.TraceID()).Str("provider", c.Req.Provider).Str("model", c.Req.Model).
			Int64("receipts_lost", n).Str("error", msg).
			Msg("assay capture: model_call receipt NOT written; this call is missing from the evidence")
		return
	}
	r.written.Add(1)
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	s := Stats{Written: r.written.Load(), Lost: r.lost.Load()}
	if r.q != nil {
		s.Pending = int64(len(r.q))
	}
	return s
}

// LastError is the last write failure ("" if none).
func (r *Recorder) LastError() string {
	s, _ := r.lastErr.Load().(string)
	return s
}

// Close drains the queue (async mode) so every recorded receipt is durable,
// then reports lost receipts as an error. Records after Close are written
// synchronously.
func (r *Recorder) Close() error {
	if r.async {
		r.mu.Lock()
		if !r.closed {
			r.closed = true
			close(r.q)
		}
		r.mu.Unlock()
		<-r.done
	}
	if n := r.lost.Load(); n > 0 {
		return fmt.Errorf("%d model_call receipt(s) could not be written (last error: %s)", n, r.LastError())
	}
	return nil
}

// isNilStore catches a nil *store.Store passed as a Sink.
func isNilStore(s Sink) bool {
	st, ok := s.(*store.Store)
	return ok && st == nil
}
