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
	return &Sink{st: st, traceID: traceID, seen: map[string]map[string]bool{}, written: map[string]int{}}, nil
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

// Write appends each receipt that is not already in its trace. The
// appends of one batch run concurrently so the store's group commit
// writes them with one fsync per trace file instead of one per receipt.
// On a store failure the failed receipts stay unmarked and the error is
// returned: the caller answers the exporter with a retryable status, and
// the retry is deduplicated against what did land.
func (s *Sink) Write(rs []Receipt) (WriteStats, error) {
	ws := WriteStats{Traces: map[string]int{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	type job struct {
		r     Receipt
		trace string
		ids   map[string]bool
	}
	var jobs []job
	batchIDs := map[string]bool{}
	for _, r := range rs {
		trace := s.Trace(r)
		ids, err := s.index(trace)
		if err != nil {
			return ws, err
		}
		key := trace + "\x00" + r.ID
		if ids[r.ID] || batchIDs[key] {
			ws.Duplicates++
			continue
		}
		batchIDs[key] = true
		jobs = append(jobs, job{r, trace, ids})
	}
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
	var first error
	for i, j := range jobs {
		if errs[i] != nil {
			if first == nil {
				first = errs[i]
			}
			continue
		}
		j.ids[j.r.ID] = true
		ws.Written++
		ws.Traces[j.trace]++
		s.written[j.trace]++
	}
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
