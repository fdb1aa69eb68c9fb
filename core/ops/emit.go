package ops

import (
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// EmitRequest asks to append one receipt to a trace.
type EmitRequest struct {
	TraceID         string
	Type            string
	Data            *canon.Object
	ParentReceiptID string
	// Seq sets the receipt's seq; nil means one past the highest seq in
	// the trace.
	Seq *int64
}

// serverTypes are written by assay itself (the MCP server and proxy), never
// by an emitter: a forged tool call or session end would read as evidence.
var serverTypes = map[string]bool{receipt.TypeMCPToolCall: true, "session_metadata": true}

// reservedData are base fields an emitter may not set through data: the
// store writes schema_version, and the parent has its own field.
var reservedData = map[string]string{
	"schema_version":    "drop it; the store writes schema_version",
	"parent_receipt_id": "give the parent separately (--parent, parent_receipt_id)",
}

// Validate applies the one set of emit rules (CLI `assay emit` and the MCP
// emit-receipt tool alike), before anything is written: an allowed type
// that is not written by assay itself; data fields ASCII, not store
// stamps, not `_`-prefixed, not reserved, no secrets, finite numbers; a
// receipt_id in data a non-empty string new to the trace; a timestamp in
// data a valid ISO 8601 time; a seq in data an integer.
func (r EmitRequest) Validate(state store.TraceState) error {
	if !receipt.TypeAllowed(r.Type) {
		return exit.Bad("use one of: "+receipt.AllowedForms(), "receipt type %q cannot go into a proof pack", r.Type)
	}
	if serverTypes[r.Type] {
		return exit.Bad("record your own action as decision_v1, capability_use or a namespaced type", "receipt type %q is written by assay itself (the MCP server and proxy), not by an emitter", r.Type)
	}
	if err := store.ValidTraceID(r.TraceID); err != nil {
		return exit.Bad("trace ids look like trace_20260115T115900_1a2b3c4d", "trace id %q is not valid", r.TraceID)
	}
	if r.Data == nil {
		return nil
	}
	if err := receipt.CheckData(r.Data); err != nil {
		return err
	}
	for _, m := range r.Data.Members {
		if fix, ok := reservedData[m.Key]; ok {
			return exit.Bad(fix, "field %q is reserved", m.Key)
		}
		if strings.HasPrefix(m.Key, "_") {
			return exit.Bad("rename the field; names starting with _ are the store's (and left out of the pack's hashes)", "field %q is reserved", m.Key)
		}
	}
	if v, ok := r.Data.Get("receipt_id"); ok {
		id, isStr := v.(string)
		if !isStr || strings.TrimSpace(id) == "" {
			return exit.Bad("give a non-empty string, or drop receipt_id and let emit make one", "receipt_id must be a non-empty string")
		}
		if state.IDs[id] {
			return exit.Bad("use a new receipt_id, or drop it and let emit make one", "receipt_id %q is already in trace %s", id, r.TraceID)
		}
	}
	if v, ok := r.Data.Get("timestamp"); ok {
		ts, isStr := v.(string)
		if _, valid := receipt.ParseTimestamp(ts); !isStr || !valid {
			b, _ := canon.Marshal(v)
			return exit.Bad("use an ISO 8601 time like 2026-01-15T11:59:00.123456+00:00, or drop timestamp and let emit stamp it", "timestamp %s is not a valid time", strings.TrimSpace(string(b)))
		}
	}
	if v, ok := r.Data.Get("seq"); ok {
		n, isNum := v.(canon.Number)
		if !isNum || strings.ContainsAny(string(n), ".eE") {
			return exit.Bad("give an integer, or drop seq and let emit number it", "seq must be an integer")
		}
	}
	return nil
}

// EmitResult is the stored receipt, as appended to the trace (store stamps
// included): the document 'assay emit --json' prints and the MCP
// emit-receipt tool returns. The named fields are decoded views of it.
type EmitResult struct {
	ReceiptID string           `json:"receipt_id"`
	Type      string           `json:"type"`
	Timestamp string           `json:"timestamp"`
	Seq       int64            `json:"seq"`
	TraceID   string           `json:"_trace_id"`
	Receipt   *receipt.Receipt `json:"-"`
}

// MarshalJSON prints the stored receipt itself, fields in order, numbers
// exact.
func (r EmitResult) MarshalJSON() ([]byte, error) {
	if r.Receipt == nil {
		return []byte("null"), nil
	}
	return canon.Options{KeepOrder: true}.Marshal(r.Receipt)
}

// JSONSchema describes the stored receipt: its base fields and stamps, plus
// the emitter's own fields.
func (EmitResult) JSONSchema() *jsonschema.Schema {
	props := jsonschema.NewProperties()
	str := func(d string) *jsonschema.Schema { return &jsonschema.Schema{Type: "string", Description: d} }
	props.Set("receipt_id", str("The receipt's id"))
	props.Set("type", str("The receipt type"))
	props.Set("timestamp", str("ISO 8601 time of the receipt"))
	props.Set("schema_version", str("Receipt schema version (3.0)"))
	props.Set("seq", &jsonschema.Schema{Type: "integer", Description: "Order of the receipt in its trace"})
	props.Set("parent_receipt_id", str("The receipt this one follows from"))
	props.Set("_trace_id", str("The trace the receipt was appended to"))
	props.Set("_stored_at", str("When the store appended it"))
	props.Set("_store_seq", &jsonschema.Schema{Type: "integer", Description: "The store's append counter"})
	return &jsonschema.Schema{
		Type: "object", Properties: props,
		Required:             []string{"receipt_id", "type", "timestamp", "schema_version", "seq", "_trace_id", "_stored_at", "_store_seq"},
		AdditionalProperties: &jsonschema.Schema{Description: "A field of the emitter's own"},
		Description:          "The stored receipt: base fields, the emitter's own fields, and the store's stamps",
	}
}

// Emit validates the request and appends the receipt to st.
func Emit(st *store.Store, r EmitRequest) (*EmitResult, error) {
	if err := store.ValidTraceID(r.TraceID); err != nil {
		return nil, exit.Bad("trace ids look like trace_20260115T115900_1a2b3c4d", "trace id %q is not valid", r.TraceID)
	}
	// The trace is read once per process (for its next seq), and again
	// only to check a receipt_id given in data against the ids in it.
	if r.Data == nil {
		r.Data = &canon.Object{}
	}
	state := store.TraceState{IDs: map[string]bool{}}
	if _, givenID := r.Data.Get("receipt_id"); givenID || !st.SeqKnown(r.TraceID) {
		var err error
		if state, err = st.ReadTraceState(r.TraceID); err != nil {
			return nil, err
		}
	}
	if err := r.Validate(state); err != nil {
		return nil, err
	}
	data := r.Data
	if _, ok := data.Get("seq"); !ok && r.Seq != nil {
		data.Set("seq", *r.Seq)
	}
	// seq continues the trace, whoever wrote it: shell-emitted receipts and
	// a server's keep their order in the pack (sorted by seq, then id).
	st.ContinueSeq(r.TraceID, state.NextSeq)
	rec, err := st.Emit(r.TraceID, r.Type, data, store.EmitOptions{ParentReceiptID: r.ParentReceiptID})
	if err != nil {
		return nil, exit.Wrap(exit.Code(err), err, "check that the assay home is writable")
	}
	res := &EmitResult{ReceiptID: rec.String("receipt_id"), Type: r.Type, Timestamp: rec.String("timestamp"), TraceID: r.TraceID, Receipt: rec}
	switch v, _ := rec.Get("seq"); n := v.(type) {
	case int64:
		res.Seq = n
	case int:
		res.Seq = int64(n)
	case canon.Number:
		res.Seq, _ = strconv.ParseInt(string(n), 10, 64)
	}
	return res, nil
}
