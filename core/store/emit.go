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
	rs, errs := s.EmitAll(traceID, []EmitItem{{Type: typ, Data: data, Opt: opt}})
	return rs[0], errs[0]
}

// EmitItem is one receipt of EmitAll.
type EmitItem struct {
	Type string
	Data *canon.Object
	Opt  EmitOptions
}

// EmitAll is Emit for many receipts of one trace, appended in order in as
// few flushes (and fsyncs) as the group commit allows: a busy writer hands
// over everything it has queued at once instead of paying one fsync per
// receipt. rs[i] and errs[i] are item i's (rs[i] nil when errs[i] is not).
func (s *Store) EmitAll(traceID string, items []EmitItem) (rs []*receipt.Receipt, errs []error) {
	rs, errs = make([]*receipt.Receipt, len(items)), make([]error, len(items))
	var ok []*receipt.Receipt
	var at []int
	s.mu.Lock()
	for i, it := range items {
		if !receipt.TypeAllowed(it.Type) {
			errs[i] = exit.Bad("allowed: "+receipt.AllowedForms(), "receipt type %q cannot go into a proof pack", it.Type)
			continue
		}
		seq := s.seqs[traceID]
		s.seqs[traceID] = seq + 1
		rs[i] = NewReceipt(it.Type, it.Data, it.Opt, seq)
		ok, at = append(ok, rs[i]), append(at, i)
	}
	s.mu.Unlock()
	for k, err := range s.appendAll(traceID, ok) {
		if err != nil {
			rs[at[k]], errs[at[k]] = nil, err
		}
	}
	return rs, errs
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
