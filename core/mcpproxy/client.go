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
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

func (p *proxy) pumpClient(ctx context.Context) {
	r := NewReader(p.o.Client)
	for {
		m, err := r.Next()
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

// envelope is the part of a JSON-RPC message the proxy reads. Absent
// members stay nil; a JSON null is "null".
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// members decodes a JSON object into its members, by their exact names.
// encoding/json would match "Name" or "METHOD" to a struct field too (the
// last such key winning), while servers in other languages read only the
// lower-case key: a client could show the policy one tool and run another.
func members(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	err := json.Unmarshal(b, &m)
	return m, err
}

// decodeEnvelope reads a JSON-RPC message's members (see members).
func decodeEnvelope(b []byte) (envelope, error) {
	m, err := members(b)
	if err != nil {
		return envelope{}, err
	}
	e := envelope{ID: m["id"], Params: m["params"], Result: m["result"], Error: m["error"]}
	if raw, ok := m["method"]; ok {
		if err := json.Unmarshal(raw, &e.Method); err != nil {
			return envelope{}, err
		}
	}
	return e, nil
}

func (e *envelope) isToolCall() bool {
	return e.Method == "tools/call" && len(e.ID) > 0 && !isNull(e.ID) && len(e.Params) > 0
}

func (e *envelope) isResponse() bool {
	return e.Method == "" && len(e.ID) > 0 && (len(e.Result) > 0 || len(e.Error) > 0)
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// firstByte is the first non-space byte of a message body (0 if none).
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func (p *proxy) fromClient(ctx context.Context, m Message) {
	if m.Blank() {
		return // not a message (servers answer it with a parse error)
	}
	switch firstByte(m.Body) {
	case '{':
		e, err := decodeEnvelope(m.Body)
		if err != nil {
			break
		}
		if p.unanswerableCall(&e) {
			return
		}
		if e.isToolCall() {
			c, denied := p.admit(&e, m.Framing)
			if denied {
				p.toClient(Frame(p.denialBody(c), m.Framing))
				return
			}
			if c != nil {
				p.forward(ctx, m, []*call{c})
			}
			return
		}
		if e.Method == "notifications/cancelled" {
			p.clientCancelled(e.Params)
		}
	case '[':
		p.fromClientBatch(ctx, m)
		return
	}
	p.forward(ctx, m, nil)
}

// fromClientBatch handles a JSON-RPC batch: each tools/call in it is
// admitted on its own; calls denied in enforce mode are answered by the
// proxy (in one batch) and the rest is forwarded, unchanged when nothing
// was denied.
func (p *proxy) fromClientBatch(ctx context.Context, m Message) {
	var elems []json.RawMessage
	if json.Unmarshal(m.Body, &elems) != nil {
		p.forward(ctx, m, nil)
		return
	}
	var calls []*call
	var keep []json.RawMessage
	var denials []json.RawMessage
	dropped := false
	for _, el := range elems {
		e, err := decodeEnvelope(el)
		if err == nil && p.unanswerableCall(&e) {
			dropped = true
			continue
		}
		if err == nil && e.isToolCall() {
			c, denied := p.admit(&e, m.Framing)
			if denied {
				denials = append(denials, p.denialBody(c))
				continue
			}
			if c == nil {
				continue
			}
			calls = append(calls, c)
		} else if err == nil && e.Method == "notifications/cancelled" {
			p.clientCancelled(e.Params)
		}
		keep = append(keep, el)
	}
	if len(denials) > 0 || dropped {
		if len(denials) > 0 {
			p.toClient(Frame(joinArray(denials), m.Framing))
		}
		if len(keep) == 0 {
			return
		}
		body := joinArray(keep)
		m = Message{Raw: Frame(body, m.Framing), Body: body, Framing: m.Framing}
	}
	p.forward(ctx, m, calls)
}

func joinArray(elems []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// unanswerableCall reports whether e is a tools/call without an id (or
// with a null id) that an enforcing policy drops: it can get no answer, so
// no receipt, and a server that ran it anyway would bypass the policy.
func (p *proxy) unanswerableCall(e *envelope) bool {
	if e.Method != "tools/call" || (len(e.ID) > 0 && !isNull(e.ID)) || p.eval == nil || !p.o.Policy.Enforce() {
		return false
	}
	p.log.Warn().Msg("a tools/call without an id was dropped (enforce mode forwards no call it cannot check and receipt)")
	return true
}

// admit registers a tools/call and applies the policy. When the call is
// denied in enforce mode it is recorded here and denied is true: the caller
// answers the client. Once the session is closing, the call is answered
// with an error and c is nil.
func (p *proxy) admit(e *envelope, f Framing) (c *call, denied bool) {
	now := time.Now()
	p.mu.Lock()
	closing := p.closing
	p.mu.Unlock()
	if closing {
		p.refuseLate(e.ID, f)
		return nil, false
	}
	params, _ := members(e.Params)
	var name any
	_ = json.Unmarshal(params["name"], &name)
	tool, _ := name.(string)
	c = &call{rawID: e.ID, tool: tool, framing: f, requestAt: now, invocation: receipt.NewID("inv_", 16)}
	if v, err := canon.Decode(e.ID); err == nil {
		c.id = v
	}
	c.idKey = canonKey(e.ID)
	argDoc := []byte(params["arguments"])
	if len(argDoc) == 0 || isNull(params["arguments"]) {
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
					p.refuseLate(e.ID, f)
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
		p.refuseLate(e.ID, f)
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
	v, err := members(params)
	if err != nil || len(v["requestId"]) == 0 {
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
