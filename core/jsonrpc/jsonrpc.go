// Package jsonrpc is the one JSON-RPC 2.0 envelope of assay: the proxy, the
// MCP server and the flows read every message through Decode and pass on
// only what Encode re-encodes from the message they checked (DECISIONS 21).
//
// Decode reads exactly. Go's encoding/json, which mcp-go and many servers
// use, matches member names case-insensitively (with Unicode simple
// folding: "ſ" is "s", the Kelvin sign is "k") and lets the last duplicate
// win, while a checker reading the lower-case member sees something else.
// So a message is refused when it has
//   - a member that appears twice, or two members of one object whose names
//     differ only in case (at any depth, arguments included);
//   - a top-level member other than jsonrpc, id, method, params, result and
//     error (a case variant such as "Method" included);
//   - for tools/call, a params member that is a case variant of a known one
//     ("Name", "ARGUMENTS");
//   - params that are not an object, an id that is not a string or number,
//     a version other than "2.0", or a shape that is neither a request, a
//     notification nor a response;
//   - a batch (an array: MCP 2025-06-18 and later have no batches), or more
//     than one JSON value in the frame;
//   - invalid JSON or invalid UTF-8.
//
// Every refusal is an *Error that carries its JSON-RPC error code and can
// render the error response (Error.Response), and names what a lenient
// decoder would have dispatched (Error.Requested), so a refusal can be
// receipted under the tool that was actually requested.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Version is the only JSON-RPC version accepted.
const Version = "2.0"

// MethodToolsCall is the MCP method whose name and arguments Decode checks
// in depth.
const MethodToolsCall = "tools/call"

// Message is one checked JSON-RPC message. Its raw members are compact
// re-encodings of the checked values (never the sender's bytes); absent
// members are nil.
type Message struct {
	// ID is the id: a JSON string or number, or "null" in a response.
	// Nil when absent (a notification).
	ID json.RawMessage
	// Method is the method of a request or notification; "" in a response.
	Method string
	// Params is an object, or nil when absent.
	Params json.RawMessage
	// Result and Error are a response's outcome (exactly one is set).
	Result json.RawMessage
	Error  json.RawMessage

	tool *ToolCall
}

// ToolCall is a tools/call's name and arguments, as checked.
type ToolCall struct {
	// Name is the tool requested.
	Name string
	// Arguments is the arguments object re-encoded, or nil when the call
	// has none (absent or null).
	Arguments json.RawMessage
}

// IsRequest reports whether m is a request (a method and an id).
func (m *Message) IsRequest() bool { return m.Method != "" && m.ID != nil }

// IsNotification reports whether m is a notification (a method, no id).
func (m *Message) IsNotification() bool { return m.Method != "" && m.ID == nil }

// IsResponse reports whether m is a response (an id and a result or error).
func (m *Message) IsResponse() bool { return m.Method == "" }

// ToolCall returns the checked name and arguments of a tools/call request;
// ok is false for any other message.
func (m *Message) ToolCall() (tc ToolCall, ok bool) {
	if m.tool == nil {
		return ToolCall{}, false
	}
	return *m.tool, true
}

// Encode returns the message re-encoded from its checked members: compact
// JSON with the members in a fixed order, without any framing.
func (m *Message) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0"`)
	if m.ID != nil {
		b.WriteString(`,"id":`)
		b.Write(m.ID)
	}
	if m.Method != "" {
		b.WriteString(`,"method":`)
		b.Write(appendString(nil, m.Method))
	}
	if m.Params != nil {
		b.WriteString(`,"params":`)
		b.Write(m.Params)
	}
	if m.Result != nil {
		b.WriteString(`,"result":`)
		b.Write(m.Result)
	}
	if m.Error != nil {
		b.WriteString(`,"error":`)
		b.Write(m.Error)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// topMembers are the only members a message may have.
var topMembers = []string{"jsonrpc", "id", "method", "params", "result", "error"}

// toolCallParams are the params members of a tools/call that servers read
// (mcp-go v1.2.1's CallToolParams): a case variant of one is refused.
var toolCallParams = []string{"name", "arguments", "_meta", "task", "inputResponses", "requestState"}

// Decode checks one message (the payload of one frame or line, without
// its framing) and returns it. A refused message yields a nil Message and
// an *Error.
func Decode(b []byte) (*Message, error) {
	if !utf8.Valid(b) {
		return nil, refuse(b, CodeParseError, ReasonMalformed, "the message is not valid UTF-8")
	}
	v, dup, rest, err := parse(b)
	if err != nil {
		return nil, refuse(b, CodeParseError, ReasonMalformed, "the message is not valid JSON: "+err.Error())
	}
	if len(rest) > 0 {
		if _, _, _, err := parse(rest); err != nil {
			return nil, refuse(b, CodeParseError, ReasonMalformed, "the message is followed by bytes that are not JSON")
		}
		return nil, refuse(b, CodeInvalidRequest, ReasonMultiple, "the frame holds more than one JSON value; send one message per frame")
	}
	if v.kind == kindArray {
		return nil, refuse(b, CodeInvalidRequest, ReasonBatch, "batches are not accepted; send one message per frame")
	}
	if v.kind != kindObject {
		return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "a message must be a JSON object")
	}
	if dup != "" {
		return nil, refuse(b, CodeInvalidRequest, ReasonDuplicate, dup)
	}
	m := &Message{}
	var version *value
	for i := range v.members {
		mem := &v.members[i]
		if !isOneOf(mem.name, topMembers) {
			if k := foldedOneOf(mem.name, topMembers); k != "" {
				return nil, refuse(b, CodeInvalidRequest, ReasonCaseVariant, "member "+quote(mem.name)+" is a case variant of "+quote(k)+"; member names are case-sensitive")
			}
			return nil, refuse(b, CodeInvalidRequest, ReasonUnknownMember, "unknown member "+quote(mem.name)+"; a message has only jsonrpc, id, method, params, result and error")
		}
		val := &mem.val
		switch mem.name {
		case "jsonrpc":
			version = val
		case "id":
			if val.kind != kindString && val.kind != kindNumber && val.kind != kindNull {
				return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "the id must be a string or a number")
			}
			m.ID = val.encode(nil)
		case "method":
			if val.kind != kindString || val.str == "" {
				return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "the method must be a non-empty string")
			}
			m.Method = val.str
		case "params":
			if val.kind != kindObject {
				return nil, refuse(b, CodeInvalidParams, ReasonInvalid, "params must be an object")
			}
			m.Params = val.encode(nil)
		case "result":
			m.Result = val.encode(nil)
		case "error":
			if val.kind != kindObject {
				return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "the error must be an object")
			}
			m.Error = val.encode(nil)
		}
	}
	if version == nil || version.kind != kindString || version.str != Version {
		return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, `the message must carry "jsonrpc":"2.0"`)
	}
	switch {
	case m.Method != "":
		if m.Result != nil || m.Error != nil {
			return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "a request cannot carry a result or an error")
		}
		if m.ID != nil && string(m.ID) == "null" {
			return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "a request id must be a string or a number, not null")
		}
	case m.ID == nil:
		return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "a message without a method must be a response with an id")
	case (m.Result == nil) == (m.Error == nil):
		return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "a response must carry exactly one of result and error")
	case m.Params != nil:
		return nil, refuse(b, CodeInvalidRequest, ReasonInvalid, "a response cannot carry params")
	}
	if m.Method == MethodToolsCall {
		tc, e := toolCall(&v, m)
		if e != nil {
			return nil, refuse(b, e.Code, e.Reason, e.Detail)
		}
		m.tool = tc
	}
	return m, nil
}

// toolCall checks a tools/call's params and returns its name and arguments.
func toolCall(v *value, m *Message) (*ToolCall, *Error) {
	if m.ID == nil {
		return nil, &Error{Code: CodeInvalidRequest, Reason: ReasonInvalid, Detail: "a tools/call must have an id (a call without one gets no answer, so it cannot be checked and receipted)"}
	}
	p := v.member("params")
	if p == nil {
		return nil, &Error{Code: CodeInvalidParams, Reason: ReasonInvalid, Detail: "a tools/call must have params with a name"}
	}
	tc := &ToolCall{}
	hasName := false
	for i := range p.members {
		mem := &p.members[i]
		if !isOneOf(mem.name, toolCallParams) {
			if k := foldedOneOf(mem.name, toolCallParams); k != "" {
				return nil, &Error{Code: CodeInvalidParams, Reason: ReasonCaseVariant, Detail: "params member " + quote(mem.name) + " is a case variant of " + quote(k) + "; member names are case-sensitive"}
			}
			continue
		}
		switch mem.name {
		case "name":
			if mem.val.kind != kindString || mem.val.str == "" {
				return nil, &Error{Code: CodeInvalidParams, Reason: ReasonInvalid, Detail: "a tools/call name must be a non-empty string"}
			}
			tc.Name, hasName = mem.val.str, true
		case "arguments":
			switch mem.val.kind {
			case kindNull:
			case kindObject:
				tc.Arguments = mem.val.encode(nil)
			default:
				return nil, &Error{Code: CodeInvalidParams, Reason: ReasonInvalid, Detail: "tools/call arguments must be an object"}
			}
		}
	}
	if !hasName {
		return nil, &Error{Code: CodeInvalidParams, Reason: ReasonInvalid, Detail: "a tools/call must name its tool in params.name"}
	}
	return tc, nil
}

func isOneOf(s string, list []string) bool {
	for _, k := range list {
		if s == k {
			return true
		}
	}
	return false
}

// foldedOneOf returns the member of list that s is a case variant of, as
// encoding/json would match it, or "".
func foldedOneOf(s string, list []string) string {
	for _, k := range list {
		if s != k && strings.EqualFold(s, k) {
			return k
		}
	}
	return ""
}

func quote(s string) string { return string(appendString(nil, s)) }

// Meta returns the string member key of params._meta, read with exact
// member names ("" when params, _meta or the member is absent or not a
// string). MCP's 2026-07-28 era names the protocol version there.
func (m *Message) Meta(key string) string {
	var params map[string]json.RawMessage
	if json.Unmarshal(m.Params, &params) != nil {
		return ""
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(params["_meta"], &meta) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(meta[key], &s) != nil {
		return ""
	}
	return s
}
