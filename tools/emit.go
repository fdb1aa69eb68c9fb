package tools

import (
	"context"
	"fmt"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/ops"
)

// EmitArgs are the arguments of emit-receipt.
type EmitArgs struct {
	Type            string         `json:"type" jsonschema:"description=Receipt type: decision_v1\\, guardian_verdict\\, capability_use\\, refusal\\, ... or a namespaced type like acme.tool_call"`
	Data            map[string]any `json:"data,omitempty" jsonschema:"description=The receipt's own fields (ASCII keys; not type/schema_version/parent_receipt_id or _-prefixed; receipt_id/timestamp/seq only if valid; the rules of 'assay emit')"`
	ParentReceiptID string         `json:"parent_receipt_id,omitempty" jsonschema:"description=receipt_id of the receipt this one follows from"`
}

// EmitResult is what emit-receipt returns: the stored receipt, the
// document 'assay emit --json' prints.
type EmitResult = ops.EmitResult

func emitTool() Tool {
	return newTool("emit-receipt", "Record a receipt",
		"Append a receipt (a decision, guardian verdict, capability use, refusal, ...) to this session's trace; bundle packs the trace. Returns the stored receipt, as 'assay emit --json' does, under the same rules.",
		Annotations{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: false},
		func(ctx context.Context, c *Call, a EmitArgs) (*EmitResult, string, error) {
			data, err := rawData(c)
			if err != nil {
				return nil, "", err
			}
			// The same request type and rules as 'assay emit'.
			r, err := ops.Emit(c.Server.store, ops.EmitRequest{TraceID: c.Session.traceID, Type: a.Type, Data: data, ParentReceiptID: a.ParentReceiptID})
			if err != nil {
				return nil, "", err
			}
			return r, fmt.Sprintf("recorded %s %s in trace %s", a.Type, r.ReceiptID, r.TraceID), nil
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
	return data, nil
}
