package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// EmitArgs are the arguments of emit-receipt.
type EmitArgs struct {
	Type            string         `json:"type" jsonschema:"description=Receipt type: decision_v1\\, guardian_verdict\\, capability_use\\, refusal\\, ... or a namespaced type like acme.tool_call"`
	Data            map[string]any `json:"data,omitempty" jsonschema:"description=The receipt's own fields (ASCII keys; not receipt_id/type/timestamp/seq/schema_version/parent_receipt_id or _-prefixed)"`
	ParentReceiptID string         `json:"parent_receipt_id,omitempty" jsonschema:"description=receipt_id of the receipt this one follows from"`
}

// EmitResult is what emit-receipt returns.
type EmitResult struct {
	ReceiptID string `json:"receipt_id"`
	Type      string `json:"type"`
	TraceID   string `json:"trace_id"`
	Seq       int64  `json:"seq"`
	Timestamp string `json:"timestamp"`
}

// baseFields are set by the store; data may not override them.
var baseFields = map[string]bool{
	"receipt_id": true, "type": true, "timestamp": true, "schema_version": true, "seq": true, "parent_receipt_id": true,
}

func emitTool() Tool {
	return newTool("emit-receipt", "Record a receipt",
		"Append a receipt (a decision, guardian verdict, capability use, refusal, ...) to this session's trace; bundle packs the trace. Returns the receipt id.",
		Annotations{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: false},
		func(ctx context.Context, c *Call, a EmitArgs) (EmitResult, string, error) {
			if !receipt.TypeAllowed(a.Type) {
				return EmitResult{}, "", Failf("receipt type %q cannot go into a proof pack; use one of %s", a.Type, receipt.AllowedForms())
			}
			if a.Type == "mcp_tool_call" || a.Type == "session_metadata" {
				return EmitResult{}, "", Failf("receipt type %q is written by the server itself; record your own action as decision_v1, capability_use or a namespaced type", a.Type)
			}
			data, err := rawData(c)
			if err != nil {
				return EmitResult{}, "", err
			}
			r, err := c.Server.store.Emit(c.Session.traceID, a.Type, data, store.EmitOptions{ParentReceiptID: a.ParentReceiptID})
			if err != nil {
				return EmitResult{}, "", err
			}
			res := EmitResult{ReceiptID: r.String("receipt_id"), Type: a.Type, TraceID: c.Session.traceID, Timestamp: r.String("timestamp")}
			if n, ok := r.Get("seq"); ok {
				switch v := n.(type) {
				case int:
					res.Seq = int64(v)
				case int64:
					res.Seq = v
				}
			}
			return res, fmt.Sprintf("recorded %s %s in trace %s", a.Type, res.ReceiptID, res.TraceID), nil
		})
}

// rawData takes data from the raw arguments, keeping its key order and exact
// numbers (decoding into map[string]any would lose both).
func rawData(c *Call) (*canon.Object, error) {
	v, err := canon.Decode(c.Raw)
	if err != nil {
		return nil, Failf("arguments are not valid JSON: %v", err)
	}
	obj, _ := v.(*canon.Object)
	if obj == nil {
		return nil, nil
	}
	dv, ok := obj.Get("data")
	if !ok || dv == nil {
		return nil, nil
	}
	data, ok := dv.(*canon.Object)
	if !ok {
		return nil, Failf("data must be a JSON object of receipt fields")
	}
	for _, m := range data.Members {
		if baseFields[m.Key] || strings.HasPrefix(m.Key, "_") {
			return nil, Failf("data key %q is reserved (set by the store); rename it", m.Key)
		}
	}
	if err := receipt.CheckData(data); err != nil {
		return nil, Failf("data %v", err)
	}
	return data, nil
}
