package store

import (
	"strconv"

	"github.com/assay-dev/assay/core/canon"
)

// TraceState is what an emitter needs to know about a trace before it
// appends: the next seq (one past the highest integer seq in the trace, 0
// for a new trace) and the receipt ids already in it.
type TraceState struct {
	NextSeq int64
	IDs     map[string]bool
}

// ReadTraceState reads the trace once and returns its state.
func (s *Store) ReadTraceState(traceID string) (TraceState, error) {
	st := TraceState{IDs: map[string]bool{}}
	path, ok, err := s.Find(traceID)
	if err != nil || !ok {
		return st, err
	}
	rs, _, err := ReadFile(path)
	if err != nil {
		return st, err
	}
	for _, r := range rs {
		st.IDs[r.String("receipt_id")] = true
		v, _ := r.Get("seq")
		n, ok := v.(canon.Number)
		if !ok {
			continue
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= st.NextSeq {
			st.NextSeq = i + 1
		}
	}
	return st, nil
}

// ContinueSeq makes this process's seq counter for the trace continue past
// next (never going back), so receipts emitted from several processes
// (one-shot `assay emit` calls, a long-lived MCP server) keep their order.
func (s *Store) ContinueSeq(traceID string, next int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seqs[traceID] < next {
		s.seqs[traceID] = next
	}
}

// SeqKnown reports whether this process already numbers the trace (it
// emitted into it or continued it), so an emitter need not read it again.
func (s *Store) SeqKnown(traceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.seqs[traceID]
	return ok
}
