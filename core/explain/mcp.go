package explain

import (
	"bytes"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/pack"
)

// MCPSession summarises the MCP tool calls of one session in a pack: the
// notary proxy's (with its session_metadata receipt) or an MCP server's own.
type MCPSession struct {
	SessionID string `json:"session_id"`
	ServerID  string `json:"server_id"`
	Source    string `json:"integration_source"`
	ToolCalls int    `json:"tool_calls"`
	// Outcomes counts calls by outcome (forwarded, error, denied, timeout,
	// completed).
	Outcomes map[string]int `json:"outcomes"`
	// Denied lists "tool (reason)" for each denied call.
	Denied []string `json:"denied"`
	// Complete is the session_metadata receipt's session_complete; nil
	// when the pack holds no such receipt.
	Complete          *bool    `json:"session_complete" jsonschema:"oneof_type=boolean;null"`
	IncompleteReasons []string `json:"incomplete_reasons"`
}

// mcpSessions reads the MCP receipts of a pack's receipt file.
func mcpSessions(p *pack.Pack) []MCPSession {
	it, err := p.Receipts()
	if err != nil {
		return nil
	}
	defer it.Close()
	by := map[string]*MCPSession{}
	closed := map[*MCPSession]bool{} // a closing session_metadata receipt was seen
	get := func(o *canon.Object) *MCPSession {
		key := o.String("session_id") + "\x00" + o.String("integration_source")
		s := by[key]
		if s == nil {
			s = &MCPSession{SessionID: o.String("session_id"), ServerID: o.String("server_id"), Source: o.String("integration_source"),
				Outcomes: map[string]int{}, Denied: []string{}, IncompleteReasons: []string{}}
			by[key] = s
		}
		return s
	}
	for it.Next() {
		line := it.Line()
		if !bytes.Contains(line, []byte(`"mcp_tool_call"`)) && !bytes.Contains(line, []byte(`"session_metadata"`)) {
			continue
		}
		v, err := canon.Decode(line)
		if err != nil {
			continue
		}
		o, ok := v.(*canon.Object)
		if !ok {
			continue
		}
		switch o.String("type") {
		case "mcp_tool_call":
			s := get(o)
			s.ToolCalls++
			out := o.String("outcome")
			s.Outcomes[out]++
			if out == "denied" {
				why := o.String("policy_reason")
				if why == "" {
					// Refused by the proxy before any policy (malformed,
					// oversized, before initialize): the kind of refusal.
					why, _, _ = strings.Cut(o.String("outcome_detail"), ": ")
				}
				s.Denied = append(s.Denied, o.String("tool_name")+" ("+why+")")
			}
		case "session_metadata":
			s := get(o)
			// The proxy writes an opening receipt (session_state "open")
			// and a closing one. A closing receipt says how the session
			// ended; an opening one without a closing one means the proxy
			// never closed it (killed, crashed): incomplete.
			if o.String("session_state") == "open" {
				if closed[s] {
					continue
				}
			} else {
				closed[s] = true
			}
			s.Complete, s.IncompleteReasons = nil, []string{}
			if c, ok := o.Get("session_complete"); ok {
				if b, ok := c.(bool); ok {
					s.Complete = &b
				}
			}
			if rs, ok := o.Get("incomplete_reasons"); ok {
				if list, ok := rs.([]any); ok {
					for _, r := range list {
						if str, ok := r.(string); ok {
							s.IncompleteReasons = append(s.IncompleteReasons, str)
						}
					}
				}
			}
		}
	}
	out := make([]MCPSession, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SessionID != out[j].SessionID {
			return out[i].SessionID < out[j].SessionID
		}
		return out[i].Source < out[j].Source
	})
	return out
}
