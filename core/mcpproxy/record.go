package mcpproxy

// Receipts: the mcp_tool_call receipt of each resolved call, the recorder, and the session_metadata receipt.

import (
	"encoding/json"
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
	seq := p.seq.Add(1) - 1
	m := receipt.MCPToolCall{
		Seq: &seq, InvocationID: c.invocation, SessionID: p.o.SessionID, TraceID: p.o.TraceID,
		ServerID: p.o.ServerID, Transport: p.up.Transport(), ToolName: c.tool, RequestID: c.id,
		RequestAt: c.requestAt, DecidedAt: c.decidedAt, ResponseAt: at,
		ArgumentsHash: c.argsHash, ResultIsError: isErr, Outcome: outcome, OutcomeDetail: detail,
		ProxyVersion: proxyVersion(), Source: IntegrationSource,
	}
	if p.o.StoreArgs && c.args != nil {
		m.ArgumentsContent = c.args
	}
	switch r := result.(type) {
	case nil:
		if detail != "" {
			result = map[string]any{"error": detail}
			m.ResultHash, _ = receipt.HashValue(result)
		}
	case rawResult:
		m.ResultHash = "sha256:" + receipt.SHA256Hex(r)
		result = nil
	default:
		m.ResultHash, _ = receipt.HashValue(r) // "" (null) when it cannot be hashed
	}
	if p.o.StoreResults && result != nil {
		if v, err := canon.Decode(mustJSON(result)); err == nil {
			m.ResultContent = v
		}
	}
	if outcome != OutcomeDenied {
		m.DurationMS = float64(at.Sub(c.requestAt).Microseconds()) / 1000
	}
	if c.decision != nil {
		m.Policy = &receipt.MCPPolicy{
			Verdict: c.decision.Verdict, Reason: c.decision.Reason, Ref: p.o.Policy.Path,
			Hash: p.o.Policy.Hash, Mode: p.o.Policy.Mode, Rule: c.decision.Rule,
		}
	}
	d := m.Data()
	d.Set("receipt_id", receipt.NewID("mtc_", 16))
	d.Set("timestamp", receipt.Timestamp(at))
	p.rec <- d
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
		_, err := p.o.Store.Emit(p.o.TraceID, receipt.TypeMCPToolCall, d, store.EmitOptions{ReceiptID: id.(string), Timestamp: ts.(string)})
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
	m := p.sessionReceipt(SessionOpen, false, []string{NotClosedReason})
	if _, err := p.o.Store.Emit(s.TraceID, receipt.TypeSessionMetadata, m.Data(), store.EmitOptions{ReceiptID: receipt.NewID("smd_", 16), Timestamp: receipt.Timestamp(start)}); err != nil {
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
	m := p.sessionReceipt(SessionClosed, len(reasons) == 0, reasons)
	m.Closing = true
	m.ReceiptCount = int64(p.written.Load())
	m.ToolCalls = s.ToolCalls
	m.Outcomes = s.Outcomes
	m.EndedAt = s.EndedAt
	m.ServerExit = &receipt.ServerExit{Code: s.ServerExit.Code, Killed: s.ServerExit.Killed, Detail: s.ServerExit.Detail}
	d := m.Data()
	p.mu.Unlock()
	_, err := p.o.Store.Emit(s.TraceID, receipt.TypeSessionMetadata, d, store.EmitOptions{ReceiptID: receipt.NewID("smd_", 16), Timestamp: receipt.Timestamp(end)})
	if err != nil {
		p.lost.Add(1)
		p.markIncomplete("the session_metadata receipt could not be written")
		p.log.Error().Err(err).Msg("EVIDENCE LOST: the session_metadata receipt could not be written")
		return
	}
	p.written.Add(1)
}

// sessionReceipt is what the opening and the closing session_metadata
// receipts share.
func (p *proxy) sessionReceipt(state string, complete bool, reasons []string) receipt.SessionMetadata {
	s := p.sess
	seq := int64(p.seq.Add(1) - 1)
	m := receipt.SessionMetadata{
		Seq: &seq, SessionID: s.SessionID, TraceID: s.TraceID, ServerID: s.ServerID, Transport: s.Transport,
		State: state, Complete: complete, Incomplete: reasons, StartedAt: s.StartedAt,
		Policy:            &receipt.SessionPolicy{Mode: s.PolicyMode},
		ProxyVersion:      proxyVersion(),
		IntegrationSource: IntegrationSource,
	}
	if p.o.Policy != nil {
		m.Policy.Loaded, m.Policy.Ref, m.Policy.Hash = true, p.o.Policy.Path, p.o.Policy.Hash
	}
	return m
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
