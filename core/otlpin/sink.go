package otlpin

import (
	"fmt"
	"sync"

	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// Sink writes receipts made from spans into the trace store, dropping
// duplicate deliveries (a receipt id already in the trace, §6.4).
type Sink struct {
	st      *store.Store
	traceID string // "" = one assay trace per OTel trace (TraceFor)

	mu      sync.Mutex
	seen    map[string]map[string]bool // trace -> receipt ids, loaded on first touch
	written map[string]int             // receipts written per trace by this sink
	// inflight holds the receipts (trace NUL id) being written by a
	// Write, with a channel closed when it is done with them.
	inflight map[string]chan struct{}
}

// maxTraces bounds the duplicate index of a long-running collector: past
// it the index is dropped and rebuilt from the store on the next touch, so
// it stays correct, only slower.
const maxTraces = 4096

// NewSink returns a sink writing to st: every receipt into traceID when it
// is set, else into TraceFor(the span's OTel trace id).
func NewSink(st *store.Store, traceID string) (*Sink, error) {
	if traceID != "" {
		if err := store.ValidTraceID(traceID); err != nil {
			return nil, err
		}
	}
	return &Sink{st: st, traceID: traceID, seen: map[string]map[string]bool{}, written: map[string]int{}, inflight: map[string]chan struct{}{}}, nil
}

// TraceFor is the assay trace that collects one OTel trace: otel_<32 hex>.
func TraceFor(otelTraceID string) string { return "otel_" + otelTraceID }

// Trace is where r goes.
func (s *Sink) Trace(r Receipt) string {
	if s.traceID != "" {
		return s.traceID
	}
	return TraceFor(r.OTelTraceID)
}

// WriteStats counts what Write did.
type WriteStats struct {
	Written    int
	Duplicates int
	Traces     map[string]int // receipts written per trace
}

// Write appends each receipt that is not already in its trace, and
// returns once every receipt it wrote is durable (the store fsyncs before
// Append returns), so the caller's 200 never goes out before the evidence
// is on disk. The appends run concurrently and outside the sink's lock:
// the appends of one request and of every request in flight at the same
// time share the store's group commit (one fsync per trace file per
// flush), instead of one fsync per receipt or per request. A receipt that
// another request is writing at that moment is waited for, not written
// twice and not taken as written before it is. On a store failure the
// failed receipts stay unmarked and the error is returned: the caller
// answers with a retryable status, and the retry is deduplicated against
// what did land.
func (s *Sink) Write(rs []Receipt) (WriteStats, error) {
	ws := WriteStats{Traces: map[string]int{}}
	type job struct {
		r     Receipt
		trace string
	}
	var jobs []job
	done := make(chan struct{})
	s.mu.Lock()
	for {
		jobs = jobs[:0]
		ws.Duplicates = 0
		var wait []chan struct{}
		batch := map[string]bool{}
		for _, r := range rs {
			trace := s.Trace(r)
			ids, err := s.index(trace)
			if err != nil {
				s.mu.Unlock()
				return ws, err
			}
			key := trace + "\x00" + r.ID
			if ch, ok := s.inflight[key]; ok {
				wait = append(wait, ch)
				continue
			}
			if ids[r.ID] || batch[key] {
				ws.Duplicates++
				continue
			}
			batch[key] = true
			jobs = append(jobs, job{r, trace})
		}
		if len(wait) == 0 {
			break
		}
		// Another request is writing some of these: wait for its
		// outcome (written, or failed and free to write again), then
		// look again.
		s.mu.Unlock()
		for _, ch := range wait {
			<-ch
		}
		s.mu.Lock()
	}
	for _, j := range jobs {
		s.inflight[j.trace+"\x00"+j.r.ID] = done
	}
	s.mu.Unlock()

	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := s.st.Emit(j.trace, j.r.Type, j.r.Data, store.EmitOptions{ReceiptID: j.r.ID, Timestamp: j.r.Timestamp}); err != nil {
				errs[i] = fmt.Errorf("writing receipt %s to trace %s: %w", j.r.ID, j.trace, err)
			}
		}()
	}
	wg.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for i, j := range jobs {
		delete(s.inflight, j.trace+"\x00"+j.r.ID)
		if errs[i] != nil {
			if first == nil {
				first = errs[i]
			}
			continue
		}
		// The index may have been dropped and reread meanwhile (maxTraces):
		// mark the current one; a missing one is rebuilt from the store,
		// where this receipt now is.
		if ids := s.seen[j.trace]; ids != nil {
			ids[j.r.ID] = true
		}
		ws.Written++
		ws.Traces[j.trace]++
		s.written[j.trace]++
	}
	close(done)
	return ws, first
}

// Written returns how many receipts this sink wrote to each trace.
func (s *Sink) Written() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.written))
	for k, v := range s.written {
		out[k] = v
	}
	return out
}

// index returns the receipt ids already in trace, reading its file once.
func (s *Sink) index(trace string) (map[string]bool, error) {
	if ids, ok := s.seen[trace]; ok {
		return ids, nil
	}
	if len(s.seen) >= maxTraces {
		s.seen = map[string]map[string]bool{}
	}
	ids := map[string]bool{}
	path, ok, err := s.st.Find(trace)
	if err != nil {
		return nil, err
	}
	if ok {
		if _, err := store.EachFile(path, func(r *receipt.Receipt) error {
			if id := r.String("receipt_id"); id != "" {
				ids[id] = true
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("reading trace %s: %w", trace, err)
		}
	}
	s.seen[trace] = ids
	return ids, nil
}
