package store

import (
	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

// EmitOptions are the optional base fields of Emit.
type EmitOptions struct {
	ReceiptID       string // default r_<12 hex>
	Timestamp       string // default now
	ParentReceiptID string
}

// Emit builds a receipt the reference's way (receipt_id, type, timestamp,
// schema_version "3.0", seq, optional parent_receipt_id, then data merged
// over the top) and appends it to the trace. seq counts this process's
// receipts in the trace, from 0, as the reference's emit_receipt does.
// The type must be one a pack may carry.
func (s *Store) Emit(traceID, typ string, data *canon.Object, opt EmitOptions) (*receipt.Receipt, error) {
	if !receipt.TypeAllowed(typ) {
		return nil, exit.Bad("allowed: "+receipt.AllowedForms(), "receipt type %q cannot go into a proof pack", typ)
	}
	r := &receipt.Receipt{}
	id := opt.ReceiptID
	if id == "" {
		id = receipt.NewID("r_", 12)
	}
	ts := opt.Timestamp
	if ts == "" {
		ts = receipt.Now()
	}
	s.mu.Lock()
	seq := s.seqs[traceID]
	s.seqs[traceID] = seq + 1
	s.mu.Unlock()
	r.Set("receipt_id", id)
	r.Set("type", typ)
	r.Set("timestamp", ts)
	r.Set("schema_version", "3.0")
	r.Set("seq", seq)
	if opt.ParentReceiptID != "" {
		r.Set("parent_receipt_id", opt.ParentReceiptID)
	}
	if data != nil {
		for _, m := range data.Members {
			r.Set(m.Key, m.Value)
		}
	}
	if err := s.Append(traceID, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Line is the store line Append wrote for r (r as Append left it, stamps
// included), without its newline: what a recorder seals.
func Line(r *receipt.Receipt) ([]byte, error) { return storeLineOpts.Marshal(r) }

// NewReceipt builds a receipt the way Emit does, without appending it: the
// base fields (receipt_id, type, timestamp, schema_version, parent) and
// data merged over the top. seq is set only when seq >= 0.
func NewReceipt(typ string, data *canon.Object, opt EmitOptions, seq int64) *receipt.Receipt {
	r := &receipt.Receipt{}
	id := opt.ReceiptID
	if id == "" {
		id = receipt.NewID("r_", 12)
	}
	ts := opt.Timestamp
	if ts == "" {
		ts = receipt.Now()
	}
	r.Set("receipt_id", id)
	r.Set("type", typ)
	r.Set("timestamp", ts)
	r.Set("schema_version", "3.0")
	if seq >= 0 {
		r.Set("seq", seq)
	}
	if opt.ParentReceiptID != "" {
		r.Set("parent_receipt_id", opt.ParentReceiptID)
	}
	if data != nil {
		for _, m := range data.Members {
			r.Set(m.Key, m.Value)
		}
	}
	return r
}
