package mcpproxy

// What the client sends: tools/call admission (policy, pending calls), forwarding, cancellations and timeouts.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/jsonrpc"
	"github.com/assay-dev/assay/core/receipt"
)

func (p *proxy) pumpClient(ctx context.Context) {
	r := NewReaderLimit(p.o.Client, p.o.MaxMessage)
	for {
		m, err := r.Next()
		if tl, ok := err.(*TooLargeError); ok {
			if ctx.Err() != nil {
				return
			}
			p.clientFraming.Store(int32(tl.Framing))
			p.oversized(tl)
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Warn().Err(err).Msg("reading the client failed; ending the session")
				p.markIncomplete("the client's input could not be read: " + err.Error())
			} else {
				p.clientEOF.Store(true)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		p.clientFraming.Store(int32(m.Framing))
		p.fromClient(ctx, m)
	}
}

// isNull reports whether a raw JSON value is null.
func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// fromClient checks one client message with core/jsonrpc and forwards
// what it re-encodes from the checked message, never the bytes as sent: a
// member the check did not read cannot reach the server. A refused message
// is answered with a JSON-RPC error, and every tools/call it asked for (as
// a lenient server would have read it) gets a receipt.
func (p *proxy) fromClient(ctx context.Context, m Message) {
	if m.Blank() {
		return // not a message (servers answer it with a parse error)
	}
	msg, err := jsonrpc.Decode(m.Body)
	if err != nil {
		var e *jsonrpc.Error
		if !errors.As(err, &e) {
			e = &jsonrpc.Error{Code: jsonrpc.CodeParseError, Reason: jsonrpc.ReasonMalformed, Detail: err.Error()}
		}
		p.refuse(e, m)
		return
	}
	body := msg.Encode()
	checked := Message{Raw: Frame(body, m.Framing), Body: body, Framing: m.Framing}
	if msg.Method == "initialize" && msg.IsRequest() {
		p.initSeen.Store(true)
	}
	if tc, ok := msg.ToolCall(); ok {
		if !p.initSeen.Load() && !modernCall(msg) {
			p.refuseCall(msg.ID, tc.Name, m, "before_initialize", jsonrpc.CodeInvalidRequest,
				"tools/call before initialize: initialize the session first (refused, not forwarded)")
			return
		}
		c, denied := p.admit(msg.ID, tc, m.Framing)
		if denied {
			p.toClient(Frame(p.denialBody(c), m.Framing))
			return
		}
		if c != nil {
			p.forward(ctx, checked, []*call{c})
		}
		return
	}
	if msg.Method == "notifications/cancelled" {
		p.clientCancelled(msg.Params)
	}
	p.forward(ctx, checked, nil)
}

// modernCall reports whether a request names, in params._meta, a known
// 2026-07-28-era protocol version: that era has no initialize handshake.
// An unknown version (a string that merely sorts after it) is not one.
func modernCall(m *jsonrpc.Message) bool {
	v := m.Meta(mcp.MetaKeyProtocolVersion)
	return mcp.IsValidProtocolVersion(v) && mcp.IsModernProtocol(v)
}

// refuse answers a message core/jsonrpc refused and records a receipt for
// each tools/call it asked for.
func (p *proxy) refuse(e *jsonrpc.Error, m Message) {
	p.log.Warn().Str("reason", string(e.Reason)).Str("detail", e.Detail).Msg("refused a malformed message from the client; answered with an error, not forwarded")
	detail := "malformed (" + string(e.Reason) + "): " + e.Detail
	for _, r := range e.ToolCalls() {
		d := detail
		if others := otherNames(r); others != "" {
			d += " (the message also names tool " + others + ")"
		}
		p.recordRefusal(r.ID, r.Tool, m.Body, d)
	}
	p.toClient(Frame(e.Response(), m.Framing))
}

// otherNames lists the tool names a refused call spells besides the one
// its receipt names: which one a server runs depends on how it reads case.
func otherNames(r jsonrpc.Requested) string {
	var o []string
	for _, n := range r.Names {
		if n != r.Tool {
			o = append(o, strconv.Quote(n))
		}
	}
	return strings.Join(o, ", ")
}

// refuseCall answers a checked tools/call the proxy will not forward and
// records it.
func (p *proxy) refuseCall(id json.RawMessage, tool string, m Message, kind string, code int, msg string) {
	p.log.Warn().Str("tool", tool).Str("reason", kind).Msg(msg)
	p.recordRefusal(id, tool, m.Body, kind+": "+msg)
	p.toClient(Frame(jsonrpc.ErrorResponse(id, code, msg), m.Framing))
}

// oversized answers a line or frame over --max-message (the reader has
// skipped it) with an error and records it: as the tools/call its start
// names when it has one, else as an unnamed attempt, since a message that
// cannot be read cannot be shown not to be a call.
func (p *proxy) oversized(tl *TooLargeError) {
	msg := fmt.Sprintf("message larger than %d bytes (--max-message); refused, not forwarded", tl.Limit)
	p.log.Warn().Int("limit", tl.Limit).Msg("refused an oversized message from the client")
	p.recordRefusal(nil, toolInPrefix(tl.Prefix), tl.Prefix, "oversized: "+msg)
	p.toClient(Frame(jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest, msg), tl.Framing))
}

// toolInPrefix names the tool the start of an oversized message asks for
// (see jsonrpc.ToolInPrefix).
func toolInPrefix(b []byte) string { return jsonrpc.ToolInPrefix(b) }

// recordRefusal writes the receipt of a tools/call attempt the proxy
// refused before any policy: outcome denied, the reason in outcome_detail,
// and arguments_hash over the refused message's bytes (there are no
// checked arguments to hash).
func (p *proxy) recordRefusal(id json.RawMessage, tool string, sent []byte, detail string) {
	now := time.Now()
	c := &call{rawID: id, tool: tool, requestAt: now, invocation: receipt.NewID("inv_", 16)}
	if v, err := canon.Decode(id); err == nil && id != nil {
		c.id = v
	}
	c.argsHash = "sha256:" + receipt.SHA256Hex(sent)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.sess.ToolCalls++
	p.sess.Refused++
	p.recordLocked(c, OutcomeDenied, nil, true, now, detail)
}

// admit registers a tools/call and applies the policy. When the call is
// denied in enforce mode it is recorded here and denied is true: the caller
// answers the client. Once the session is closing, the call is answered
// with an error and c is nil.
func (p *proxy) admit(id json.RawMessage, tc jsonrpc.ToolCall, f Framing) (c *call, denied bool) {
	now := time.Now()
	p.mu.Lock()
	closing := p.closing
	p.mu.Unlock()
	if closing {
		p.refuseLate(id, f)
		return nil, false
	}
	c = &call{rawID: id, tool: tc.Name, framing: f, requestAt: now, invocation: receipt.NewID("inv_", 16)}
	if v, err := canon.Decode(id); err == nil {
		c.id = v
	}
	c.idKey = canonKey(id)
	argDoc := []byte(tc.Arguments)
	if len(argDoc) == 0 {
		argDoc = []byte("{}")
	}
	var canonArgs []byte
	if v, err := canon.Decode(argDoc); err == nil {
		if b, err := canon.Marshal(v); err == nil {
			c.args, canonArgs = v, b
			c.argsHash = "sha256:" + receipt.SHA256Hex(b)
		}
	}
	if canonArgs == nil {
		// Not canonicalisable (e.g. a lone surrogate): hash the bytes as
		// sent and keep no cleartext, but match the policy's patterns on
		// their decoded text, or a \u escape would hide a denied word.
		c.argsHash = "sha256:" + receipt.SHA256Hex(argDoc)
		canonArgs = decodedText(argDoc)
	}
	if p.eval != nil {
		d := p.eval.Evaluate(c.tool, canonArgs, now)
		c.decision = &d
		c.decidedAt = time.Now()
		if d.Verdict == "deny" {
			if p.o.Policy.Enforce() {
				if !p.deny(c) {
					p.refuseLate(id, f)
					return nil, false
				}
				return c, true
			}
			p.mu.Lock()
			p.sess.WouldDeny++
			p.mu.Unlock()
			p.log.Info().Str("tool", c.tool).Str("reason", d.Reason).Msg("audit mode: the policy would deny this call; forwarded")
		}
	}
	p.mu.Lock()
	if p.closing {
		// The session closed while the call was evaluated: abandonPending
		// has run, so a call added now would never be resolved.
		p.mu.Unlock()
		p.refuseLate(id, f)
		return nil, false
	}
	p.sess.ToolCalls++
	if _, dup := p.pending[c.idKey]; dup {
		p.log.Warn().Str("id", c.idKey).Msg("the client reused the id of a call still in flight; the earlier call is recorded as abandoned")
		p.resolveLocked(p.pending[c.idKey], OutcomeError, nil, true, time.Now(), "the client reused this request id before the response arrived")
	}
	p.pending[c.idKey] = c
	delete(p.expired, c.idKey)
	if p.o.CallTimeout > 0 {
		c.timer = time.AfterFunc(p.o.CallTimeout, func() { p.timeout(c) })
	}
	p.mu.Unlock()
	return c, false
}

// decodedText re-encodes a JSON document that canon cannot take (a lone
// surrogate becomes U+FFFD, as servers decode it): escapes resolved, keys
// sorted, so that argument patterns see what the server will. It returns
// doc itself if even encoding/json cannot read it.
func decodedText(doc []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return doc
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if e.Encode(v) != nil {
		return doc
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// canonKey is the canonical JSON of an id, so 1 and 1.0 or differently
// escaped strings match the same call.
func canonKey(raw json.RawMessage) string {
	if v, err := canon.Decode(raw); err == nil {
		if b, err := canon.Marshal(v); err == nil {
			return string(b)
		}
	}
	return string(bytes.TrimSpace(raw))
}

// refuseLate answers a tool call that arrived once the session was
// closing: it is not forwarded (the server is gone) and not recorded.
func (p *proxy) refuseLate(id json.RawMessage, f Framing) {
	p.log.Warn().Msg("a tool call arrived after the MCP server ended; answered with an error, not forwarded")
	p.toClient(Frame(errorBody(id, CodeServerGone, "the MCP server has ended; the call was not forwarded", nil), f))
}

// deny records an enforced denial. It reports false, recording nothing,
// when the session is already closing.
func (p *proxy) deny(c *call) bool {
	d := c.decision
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.sess.ToolCalls++
	p.log.Info().Str("tool", c.tool).Str("reason", d.Reason).Msg("denied by policy")
	result := map[string]any{"denied": true, "reason": d.Reason, "detail": d.Detail}
	p.recordLocked(c, OutcomeDenied, result, true, c.decidedAt, "")
	return true
}

// denialBody is the JSON-RPC error a denied call gets.
func (p *proxy) denialBody(c *call) []byte {
	d := c.decision
	return errorBody(c.rawID, CodeDenied, "Tool call denied by policy: "+d.Reason, map[string]any{
		"detail": d.Detail, "reason": d.Reason, "rule": d.Rule, "policy_ref": p.o.Policy.Path,
	})
}

func errorBody(id json.RawMessage, code int, msg string, data any) []byte {
	e := map[string]any{"code": code, "message": msg}
	if data != nil {
		e["data"] = data
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": e})
	return b
}

// forward queues a client message for the server, in the client's order
// (the sender goroutine writes it). If the server cannot take it, the calls
// it carried are answered with an error.
func (p *proxy) forward(_ context.Context, m Message, calls []*call) {
	if sf := Framing(p.serverFraming.Load()); m.Framing != sf {
		if m.Blank() {
			return // a blank line means nothing in the other framing
		}
		m = reframe(m, sf)
	}
	p.out.push(outbound{m: m, calls: calls})
}

// sendFailed handles a message the server could not take: the calls it
// carried are answered with an error.
func (p *proxy) sendFailed(err error, calls []*call) {
	if !p.sendFailedOnce.Swap(true) { // once: a gone server fails every send
		p.log.Warn().Err(err).Msg("could not deliver a message to the MCP server")
	}
	p.markIncomplete("a message could not be delivered to the MCP server")
	for _, c := range calls {
		p.fail(c, "could not deliver the call to the MCP server: "+err.Error(), CodeServerGone)
	}
}

// fail resolves a pending call that will get no response from the server:
// it is recorded as an error and the client gets a JSON-RPC error.
func (p *proxy) fail(c *call, detail string, code int) {
	p.mu.Lock()
	cur, ok := p.pending[c.idKey]
	if !ok || cur != c {
		p.mu.Unlock()
		return
	}
	p.resolveLocked(c, OutcomeError, nil, true, time.Now(), detail)
	p.mu.Unlock()
	p.toClient(Frame(errorBody(c.rawID, code, detail, nil), c.framing))
}

func (p *proxy) clientCancelled(params json.RawMessage) {
	var v map[string]json.RawMessage // checked params: exact, unique names
	if json.Unmarshal(params, &v) != nil || len(v["requestId"]) == 0 {
		return
	}
	key := canonKey(v["requestId"])
	p.mu.Lock()
	defer p.mu.Unlock()
	// The call stays pending: servers often answer a cancelled call anyway
	// (the answer is forwarded, so it is recorded), and one that does not
	// is recorded as cancelled when the session ends.
	if c, ok := p.pending[key]; ok && !c.cancelled {
		c.cancelled = true
		if c.timer != nil {
			c.timer.Stop()
		}
	}
}

// timeout answers a call the server did not answer in time, and tells the
// server the request is cancelled.
func (p *proxy) timeout(c *call) {
	p.mu.Lock()
	if cur, ok := p.pending[c.idKey]; !ok || cur != c || c.cancelled {
		p.mu.Unlock()
		return
	}
	detail := fmt.Sprintf("no response from the MCP server within %s (--call-timeout)", p.o.CallTimeout)
	p.resolveLocked(c, OutcomeTimeout, map[string]any{"timeout": true, "after_ms": p.o.CallTimeout.Milliseconds()}, true, time.Now(), detail)
	p.expired[c.idKey] = true
	p.mu.Unlock()
	p.markIncomplete("a tool call got no response within --call-timeout")
	p.log.Warn().Str("tool", c.tool).Dur("after", p.o.CallTimeout).Msg("tool call timed out; the client gets an error and the server a cancellation")
	p.toClient(Frame(errorBody(c.rawID, CodeTimeout, detail, nil), c.framing))
	cancel, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{
		"requestId": c.rawID, "reason": detail,
	}})
	sf := Framing(p.serverFraming.Load())
	p.out.push(outbound{m: Message{Raw: Frame(cancel, sf), Body: cancel, Framing: sf}})
}

// abandonPending resolves the calls still open when the session ends.
func (p *proxy) abandonPending(ended string) {
	p.mu.Lock()
	p.closing = true // admit takes no more calls
	var open []*call
	for _, c := range p.pending {
		if c.cancelled {
			// The client gave up on it and expects no answer.
			p.resolveLocked(c, OutcomeError, nil, true, time.Now(), "cancelled by the client; the server did not answer")
			continue
		}
		open = append(open, c)
	}
	p.mu.Unlock()
	if len(open) == 0 {
		return
	}
	sort.Slice(open, func(i, j int) bool { return open[i].requestAt.Before(open[j].requestAt) })
	detail := "the MCP server ended before responding (" + p.sess.ServerExit.Detail + ")"
	if ended != "server" {
		detail = "the session ended before the MCP server responded (server " + p.sess.ServerExit.Detail + ")"
	}
	p.markIncomplete(fmt.Sprintf("%d tool call(s) got no response", len(open)))
	for _, c := range open {
		p.fail(c, detail, CodeServerGone)
	}
}
