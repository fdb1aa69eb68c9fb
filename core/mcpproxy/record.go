package mcpproxy

// Receipts: the mcp_tool_call receipt of each resolved call, the recorder, and the session_metadata receipt.

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// rawResult stands for a result that is not canonical JSON: its hash is
// over the bytes.
type rawResult []byte

// resolveLocked removes c from the pending calls and records it. p.mu held.
func (p *proxy) resolveLocked(c *call, outcome string, result any, isErr bool, at time.Time, detail string) {
	delete(p.pending, c.idKey)
	if c.timer != nil {
		c.timer.Stop()
	}
	p.recordLocked(c, outcome, result, isErr, at, detail)
}

// recordLocked builds the mcp_tool_call receipt (runtime.md §7.2 fields,
// plus outcome_detail, policy_mode and policy_rule) and queues it for the
// recorder. p.mu held.
func (p *proxy) recordLocked(c *call, outcome string, result any, isErr bool, at time.Time, detail string) {
	if p.stopped {
		// Unreachable by construction (every call is resolved before the
		// recorder stops); said loudly rather than lost quietly.
		p.lost.Add(1)
		p.log.Error().Str("tool", c.tool).Msg("EVIDENCE LOST: a tool call resolved after the session ended")
		return
	}
	p.sess.Outcomes[outcome]++
	d := &canon.Object{}
	d.Set("seq", p.seq.Add(1)-1)
	d.Set("parent_receipt_id", nil)
	d.Set("invocation_id", c.invocation)
	d.Set("session_id", p.o.SessionID)
	d.Set("trace_id", p.o.TraceID)
	d.Set("server_id", p.o.ServerID)
	d.Set("server_transport", p.up.Transport())
	d.Set("tool_name", c.tool)
	d.Set("mcp_request_id", c.id)
	d.Set("request_observed_at", receipt.Timestamp(c.requestAt))
	if c.decidedAt.IsZero() {
		d.Set("policy_decided_at", nil)
	} else {
		d.Set("policy_decided_at", receipt.Timestamp(c.decidedAt))
	}
	d.Set("response_observed_at", receipt.Timestamp(at))
	d.Set("arguments_hash", c.argsHash)
	if p.o.StoreArgs && c.args != nil {
		d.Set("arguments_content", c.args)
	} else {
		d.Set("arguments_content", nil)
	}
	var resultHash any
	switch r := result.(type) {
	case nil:
		if detail != "" {
			result = map[string]any{"error": detail}
			resultHash, _ = receipt.HashValue(result)
		}
	case rawResult:
		resultHash = "sha256:" + receipt.SHA256Hex(r)
		result = nil
	default:
		h, err := receipt.HashValue(r)
		if err != nil {
			resultHash = nil
		} else {
			resultHash = h
		}
	}
	d.Set("result_hash", resultHash)
	if p.o.StoreResults && result != nil {
		if v, err := canon.Decode(mustJSON(result)); err == nil {
			d.Set("result_content", v)
		} else {
			d.Set("result_content", nil)
		}
	} else {
		d.Set("result_content", nil)
	}
	d.Set("result_is_error", isErr)
	d.Set("outcome", outcome)
	if detail != "" {
		d.Set("outcome_detail", detail)
	}
	dur := 0.0
	if outcome != OutcomeDenied {
		dur = float64(at.Sub(c.requestAt).Microseconds()) / 1000
	}
	d.Set("duration_ms", canon.Number(fmt.Sprintf("%.1f", dur)))
	if c.decision == nil {
		d.Set("policy_verdict", "no_policy")
		d.Set("policy_reason", nil)
		d.Set("policy_ref", nil)
		d.Set("policy_hash", nil)
	} else {
		d.Set("policy_verdict", c.decision.Verdict)
		d.Set("policy_reason", nilIfEmpty(c.decision.Reason))
		d.Set("policy_ref", p.o.Policy.Path)
		d.Set("policy_hash", p.o.Policy.Hash)
		d.Set("policy_mode", p.o.Policy.Mode)
		d.Set("policy_rule", nilIfEmpty(c.decision.Rule))
	}
	d.Set("proxy_version", proxyVersion())
	d.Set("integration_source", IntegrationSource)
	d.Set("receipt_id", receipt.NewID("mtc_", 16))
	d.Set("timestamp", receipt.Timestamp(at))
	p.rec <- d
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func mustJSON(v any) []byte {
	if b, err := canon.Marshal(v); err == nil {
		return b
	}
	b, _ := json.Marshal(v)
	return b
}

// recorder writes queued receipts to the store, one at a time, off the
// forwarding path. A receipt that cannot be written is said loudly and
// makes the session incomplete.
func (p *proxy) recorder() {
	defer close(p.recDone)
	for d := range p.rec {
		if d == nil {
			return
		}
		id, _ := d.Get("receipt_id")
		ts, _ := d.Get("timestamp")
		d.Delete("receipt_id")
		d.Delete("timestamp")
		_, err := p.o.Store.Emit(p.o.TraceID, "mcp_tool_call", d, store.EmitOptions{ReceiptID: id.(string), Timestamp: ts.(string)})
		if err != nil {
			p.lost.Add(1)
			p.log.Error().Err(err).Str("trace_id", p.o.TraceID).Msg("EVIDENCE LOST: a tool-call receipt could not be written")
			p.markIncomplete("receipts could not be written to the store")
			continue
		}
		p.written.Add(1)
	}
}

// Session states recorded in session_metadata receipts.
const (
	// SessionOpen marks the receipt written when the session starts. Until
	// a closing receipt follows it, the session is incomplete: a proxy
	// that was killed (SIGKILL, a crash, the machine going down) leaves
	// only this one, and explain, verify-pack and the pack's claims say so.
	SessionOpen = "open"
	// SessionClosed marks the receipt written when the session ends.
	SessionClosed = "closed"
	// NotClosedReason is the opening receipt's incomplete reason.
	NotClosedReason = "the session did not close: no closing session_metadata receipt (the proxy was killed or crashed)"
)

// writeSessionOpen writes the opening session_metadata receipt, before any
// message is read.
func (p *proxy) writeSessionOpen(start time.Time) {
	s := p.sess
	d := &canon.Object{}
	d.Set("seq", p.seq.Add(1)-1)
	d.Set("session_id", s.SessionID)
	d.Set("trace_id", s.TraceID)
	d.Set("server_id", s.ServerID)
	d.Set("server_transport", s.Transport)
	d.Set("session_state", SessionOpen)
	d.Set("session_complete", false)
	d.Set("incomplete_reasons", []any{NotClosedReason})
	d.Set("started_at", s.StartedAt)
	d.Set("policy_mode", s.PolicyMode)
	if p.o.Policy != nil {
		d.Set("policy_ref", p.o.Policy.Path)
		d.Set("policy_hash", p.o.Policy.Hash)
	} else {
		d.Set("policy_ref", nil)
		d.Set("policy_hash", nil)
	}
	d.Set("proxy_version", proxyVersion())
	d.Set("integration_source", IntegrationSource)
	if _, err := p.o.Store.Emit(s.TraceID, "session_metadata", d, store.EmitOptions{ReceiptID: receipt.NewID("smd_", 16), Timestamp: receipt.Timestamp(start)}); err != nil {
		p.lost.Add(1)
		p.markIncomplete("the opening session_metadata receipt could not be written")
		p.log.Error().Err(err).Msg("EVIDENCE LOST: the opening session_metadata receipt could not be written")
		return
	}
	p.written.Add(1)
}

// writeSessionMetadata appends the closing session_metadata receipt: the
// signed statement of whether the session completed and why not.
func (p *proxy) writeSessionMetadata(end time.Time) {
	p.incMu.Lock()
	if p.lost.Load() > 0 {
		p.incomplete = appendOnce(p.incomplete, "receipts could not be written to the store")
	}
	reasons := append([]string{}, p.incomplete...)
	p.incMu.Unlock()
	p.mu.Lock()
	s := p.sess
	d := &canon.Object{}
	d.Set("seq", p.seq.Add(1)-1)
	d.Set("session_id", s.SessionID)
	d.Set("trace_id", s.TraceID)
	d.Set("server_id", s.ServerID)
	d.Set("server_transport", s.Transport)
	d.Set("session_state", SessionClosed)
	d.Set("session_complete", len(reasons) == 0)
	rs := make([]any, len(reasons))
	for i, r := range reasons {
		rs[i] = r
	}
	d.Set("incomplete_reasons", rs)
	d.Set("receipt_count", p.written.Load())
	d.Set("tool_calls", s.ToolCalls)
	oc := &canon.Object{}
	keys := make([]string, 0, len(s.Outcomes))
	for k := range s.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		oc.Set(k, s.Outcomes[k])
	}
	d.Set("outcomes", oc)
	d.Set("started_at", s.StartedAt)
	d.Set("ended_at", s.EndedAt)
	se := &canon.Object{}
	se.Set("code", s.ServerExit.Code)
	se.Set("killed", s.ServerExit.Killed)
	se.Set("detail", s.ServerExit.Detail)
	d.Set("server_exit", se)
	d.Set("policy_mode", s.PolicyMode)
	if p.o.Policy != nil {
		d.Set("policy_ref", p.o.Policy.Path)
		d.Set("policy_hash", p.o.Policy.Hash)
	} else {
		d.Set("policy_ref", nil)
		d.Set("policy_hash", nil)
	}
	d.Set("proxy_version", proxyVersion())
	d.Set("integration_source", IntegrationSource)
	p.mu.Unlock()
	_, err := p.o.Store.Emit(s.TraceID, "session_metadata", d, store.EmitOptions{ReceiptID: receipt.NewID("smd_", 16), Timestamp: receipt.Timestamp(end)})
	if err != nil {
		p.lost.Add(1)
		p.markIncomplete("the session_metadata receipt could not be written")
		p.log.Error().Err(err).Msg("EVIDENCE LOST: the session_metadata receipt could not be written")
		return
	}
	p.written.Add(1)
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
