package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// JSON-RPC 2.0 error codes.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// Reason says why a message was refused, in a word fit for a receipt's
// outcome_detail.
type Reason string

const (
	ReasonMalformed     Reason = "malformed"      // not JSON, not UTF-8, or too deep
	ReasonMultiple      Reason = "multiple"       // more than one JSON value in a frame
	ReasonBatch         Reason = "batch"          // a JSON array of messages
	ReasonDuplicate     Reason = "duplicate"      // a repeated member, or two that differ only in case
	ReasonCaseVariant   Reason = "case_variant"   // a member spelled in another case than the known one
	ReasonUnknownMember Reason = "unknown_member" // a top-level member JSON-RPC does not define
	ReasonInvalid       Reason = "invalid"        // a well-formed object that is not a valid message
)

// Error is a refused message: why, and what a lenient reader (such as
// encoding/json, which mcp-go uses) would have taken it to request.
type Error struct {
	// Code is the JSON-RPC error code of the answer.
	Code int
	// Reason classifies the refusal.
	Reason Reason
	// Detail is one line naming the problem and the fix.
	Detail string
	// ID is the id to answer with: the message's id when one could be
	// read as a string or number, else nil (the answer carries null).
	ID json.RawMessage
	// Requested lists what the frame asked for as a lenient reader sees
	// it: one entry per JSON object in the frame (per element of a batch,
	// per value of a multi-value frame).
	Requested []Requested
}

// Requested is one message of a refused frame as a lenient reader would
// have dispatched it.
type Requested struct {
	// ID is the re-encoded id (a string or number), or nil.
	ID json.RawMessage
	// Method is the method, "" if none.
	Method string
	// Tool is params.name of a tools/call as encoding/json reads it (the
	// tool mcp-go would run), "" if none.
	Tool string
	// Names lists every distinct tool name the message spells, in order:
	// each string value of a params member whose name case-folds to
	// "name", in each member that case-folds to "params". A server that
	// reads names case-sensitively may run one that is not Tool.
	Names []string
}

// IsToolCall reports whether r asked to call a tool.
func (r Requested) IsToolCall() bool { return r.Method == MethodToolsCall }

func (e *Error) Error() string { return "jsonrpc: " + string(e.Reason) + ": " + e.Detail }

// Response returns the JSON-RPC error response that answers the refused
// message (compact JSON, no framing).
func (e *Error) Response() []byte { return ErrorResponse(e.ID, e.Code, e.Detail) }

// ToolCalls returns the refused frame's requested tools/calls.
func (e *Error) ToolCalls() []Requested {
	var out []Requested
	for _, r := range e.Requested {
		if r.IsToolCall() {
			out = append(out, r)
		}
	}
	return out
}

// ErrorResponse renders a JSON-RPC error response. id must be a JSON
// string or number (as Message.ID is); nil or anything else is sent as
// null.
func ErrorResponse(id json.RawMessage, code int, message string) []byte {
	b := []byte(`{"jsonrpc":"2.0","id":`)
	if v, _, rest, err := parse(id); err == nil && len(rest) == 0 && (v.kind == kindString || v.kind == kindNumber) {
		b = append(b, v.enc...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	return append(b, "}}"...)
}

// refuse builds the Error for frame b.
func refuse(b []byte, code int, reason Reason, detail string) *Error {
	e := &Error{Code: code, Reason: reason, Detail: detail, Requested: lenient(b)}
	if len(e.Requested) == 1 && reason != ReasonBatch && reason != ReasonMultiple {
		e.ID = e.Requested[0].ID
	}
	return e
}

// lenientMessage is a message as encoding/json reads it (case-insensitive
// names, the last duplicate winning), the way mcp-go dispatches it.
type lenientMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	// Params is read on its own, into a fresh struct, as mcp-go's
	// CallToolParams.UnmarshalJSON does: with duplicate params the last
	// one counts whole.
	Params json.RawMessage `json:"params"`
}

// lenient lists what the objects in frame b request, read leniently.
// Values that are not objects (or arrays of them) are skipped.
func lenient(b []byte) []Requested {
	var out []Requested
	one := func(raw []byte) {
		var m lenientMessage
		// Type errors still leave the other members filled in, as far as
		// encoding/json got; a best effort is what is wanted here.
		if err := json.Unmarshal(raw, &m); err != nil {
			if _, ok := err.(*json.UnmarshalTypeError); !ok {
				return
			}
		}
		r := Requested{Method: m.Method}
		if v, _, rest, err := parse(m.ID); err == nil && len(rest) == 0 && (v.kind == kindString || v.kind == kindNumber) {
			r.ID = v.enc
		}
		if r.IsToolCall() {
			var p struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(m.Params, &p)
			r.Tool = p.Name
			r.Names = candidateNames(raw)
		}
		out = append(out, r)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for len(out) < maxRequested {
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			break
		}
		switch firstByte(raw) {
		case '{':
			one(raw)
		case '[':
			var elems []json.RawMessage
			if json.Unmarshal(raw, &elems) == nil {
				for _, el := range elems {
					if firstByte(el) == '{' && len(out) < maxRequested {
						one(el)
					}
				}
			}
		}
	}
	return out
}

// maxRequested bounds the messages listed for one refused frame, so a
// frame of a million tiny calls does not become a million receipts.
const maxRequested = 1000

func firstByte(b []byte) byte {
	for _, c := range b {
		if !isSpace(c) {
			return c
		}
	}
	return 0
}

// candidateNames lists the distinct string values of every params member
// case-folding to "name", under every top-level member case-folding to
// "params", duplicates included.
func candidateNames(msg []byte) []string {
	var out []string
	eachMember(msg, func(k string, v json.RawMessage) {
		if !strings.EqualFold(k, "params") {
			return
		}
		eachMember(v, func(k string, v json.RawMessage) {
			var s string
			if !strings.EqualFold(k, "name") || json.Unmarshal(v, &s) != nil {
				return
			}
			for _, o := range out {
				if o == s {
					return
				}
			}
			out = append(out, s)
		})
	})
	return out
}

// eachMember calls fn for each member of the JSON object b, in order,
// repeated names included; nothing when b is not an object.
func eachMember(b []byte, fn func(string, json.RawMessage)) {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return
		}
		k, _ := t.(string)
		var v json.RawMessage
		if d.Decode(&v) != nil {
			return
		}
		fn(k, v)
	}
}
