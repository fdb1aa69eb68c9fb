package mcpproxy

// What the server sends: responses matched to calls, garbage, and writing to the client.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/jsonrpc"
)

func (p *proxy) pumpServer() {
	for {
		m, err := p.up.Recv()
		if tl, ok := err.(*TooLargeError); ok {
			// Skipped by the reader; what it answered stays unanswered
			// (the call is recorded as such when the session ends).
			p.garbage(Message{Body: tl.Prefix}, tl)
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Warn().Err(err).Msg("reading the MCP server failed")
				p.markIncomplete("the MCP server's output could not be read: " + err.Error())
			}
			return
		}
		p.fromServer(m)
	}
}

func (p *proxy) fromServer(m Message) {
	if len(m.Raw) > 0 && !m.Blank() {
		p.serverFraming.Store(int32(m.Framing))
	}
	if m.Blank() {
		// Not a message: clients that parse every line would choke on it.
		return
	}
	msg, err := jsonrpc.Decode(m.Body)
	if err != nil {
		p.garbage(m, err)
		return
	}
	if msg.IsResponse() && !p.response(msg, m.Synthetic) {
		return
	}
	// Forward what was checked and recorded, re-encoded.
	body := msg.Encode()
	m.Body = body
	if len(m.Raw) > 0 {
		m.Raw = Frame(body, m.Framing)
	}
	p.toClientMsg(m)
}

// garbage drops server output that is not a JSON-RPC message: forwarding it
// would break the client's parser. Its content is not logged (it could be
// anything, secrets included), only its size.
func (p *proxy) garbage(m Message, why error) {
	p.mu.Lock()
	p.sess.GarbageMessages++
	n := p.sess.GarbageMessages
	p.mu.Unlock()
	p.log.Warn().Int("bytes", len(m.Body)).Int("count", n).AnErr("why", why).Msg("the MCP server wrote something that is not a valid JSON-RPC message to stdout; dropped (servers must log to stderr)")
	p.markIncomplete("the MCP server wrote non-JSON-RPC output to stdout")
}

// response matches a server response to its pending call and records it.
// It reports whether the message should reach the client (a late answer to
// a call the proxy already answered with a timeout does not).
func (p *proxy) response(e *jsonrpc.Message, synthetic string) bool {
	if synthetic != "" {
		// The transport answered for a server it could not reach: the
		// call has no real response.
		p.markIncomplete("the MCP server could not be reached for a call: " + synthetic)
	}
	key := canonKey(e.ID)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.pending[key]
	if !ok {
		if p.expired[key] {
			delete(p.expired, key)
			p.log.Info().Str("id", key).Msg("late response to a timed-out call; dropped (the client already got an error)")
			return false
		}
		return true
	}
	outcome := OutcomeForwarded
	var doc []byte = e.Result
	isErr := false
	if e.Error != nil {
		outcome, doc, isErr = OutcomeError, e.Error, true
	}
	var result any
	if v, err := canon.Decode(doc); err == nil {
		result = v
		// isError read from the decoded result: a second encoding/json
		// pass over a large result cost as much as hashing it.
		if o, ok := v.(*canon.Object); ok && !isErr {
			if ie, _ := o.Get("isError"); ie == true {
				outcome, isErr = OutcomeError, true
			}
		}
	} else {
		result = rawResult(doc)
		var r struct {
			IsError bool `json:"isError"`
		}
		if !isErr && json.Unmarshal(doc, &r) == nil && r.IsError {
			outcome, isErr = OutcomeError, true
		}
	}
	detail := ""
	if c.cancelled {
		detail = "the client cancelled the call; the server answered anyway"
	}
	if synthetic != "" {
		detail = "no response from the MCP server: " + synthetic
	}
	p.resolveLocked(c, outcome, result, isErr, now, detail)
	return true
}

// toClientMsg forwards a server message: its bytes unchanged, or, for an
// upstream without stdio framing, its body in the client's framing.
func (p *proxy) toClientMsg(m Message) {
	cf := Framing(p.clientFraming.Load())
	if m.Blank() && (len(m.Raw) == 0 || m.Framing != cf) {
		return
	}
	p.toClient(reframe(m, cf).Raw)
}

// reframe returns m framed with f: unchanged when it already is (the
// bytes as they came), else its body in framing f, so that a client using
// Content-Length framing can talk to an MCP stdio server, which reads and
// writes one message per line. A multi-line body becomes one line by
// dropping the whitespace between JSON tokens (json.Compact), the only
// change made to a message's content.
func reframe(m Message, f Framing) Message {
	if len(m.Raw) > 0 && m.Framing == f {
		return m
	}
	body := m.Body
	if f == NDJSON && bytes.ContainsAny(body, "\r\n") {
		var b bytes.Buffer
		if json.Compact(&b, body) == nil {
			body = b.Bytes()
		}
	}
	return Message{Raw: Frame(body, f), Body: body, Framing: f}
}

func (p *proxy) toClient(b []byte) {
	if p.clientGone.Load() {
		return
	}
	p.outMu.Lock()
	_, err := p.o.ClientOut.Write(b)
	p.outMu.Unlock()
	if err != nil && !p.clientGone.Swap(true) {
		p.log.Warn().Err(err).Msg("the client stopped reading; the rest of the session is recorded but not delivered")
		p.markIncomplete("the client disconnected before the session ended")
	}
}
