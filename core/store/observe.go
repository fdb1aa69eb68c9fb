package store

import "github.com/assay-dev/assay/core/receipt"

// Observer is told about each receipt this Store appended, once it is
// durable (a live OTLP exporter, core/otlpout). It runs on the appending
// goroutine, so it must not block.
type Observer func(traceID string, r *receipt.Receipt)

// Observe registers fn for the receipts s appends from now on (nil stops).
func (s *Store) Observe(fn Observer) {
	if fn == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&fn)
}

func (s *Store) observed(traceID string, r *receipt.Receipt) {
	if fn := s.observer.Load(); fn != nil {
		(*fn)(traceID, r)
	}
}
