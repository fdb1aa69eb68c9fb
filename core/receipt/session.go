package receipt

import (
	"sort"

	"github.com/assay-dev/assay/core/canon"
)

// TypeSessionMetadata is the receipt type that states whether an MCP
// session completed, and why not.
const TypeSessionMetadata = "session_metadata"

// SessionMetadata is the session_metadata receipt of one MCP session. The
// proxy (core/mcpproxy: an opening and a closing receipt) and the HTTP MCP
// server (tools: one receipt when a session ends) both build it here; each
// fills the fields it knows, and Data leaves out the optional ones it did
// not fill, so the two keep their documented shapes in one field order.
type SessionMetadata struct {
	Seq        *int64 // the proxy's receipt sequence (nil: no seq field)
	SessionID  string
	TraceID    string
	ServerID   string
	Transport  string
	State      string // open | closed ("": no session_state field)
	Complete   bool
	Incomplete []string
	EndedBy    string // the HTTP server: who ended the session ("": none)

	// Counts, present on a closing receipt (Closing true).
	Closing      bool
	ReceiptCount int64
	ToolCalls    int
	Outcomes     map[string]int

	StartedAt  string
	EndedAt    string      // written on a closing receipt only
	ServerExit *ServerExit // the proxy's upstream server (nil: none)

	// Policy is the proxy's policy (nil: no policy fields at all).
	Policy *SessionPolicy

	ProxyVersion      string // "": no proxy_version field
	IntegrationSource string
}

// ServerExit is how the proxied server process ended.
type ServerExit struct {
	Code   int
	Killed bool
	Detail string
}

// SessionPolicy names the policy a proxy session ran under; without a
// policy file (Loaded false) its ref and hash are null.
type SessionPolicy struct {
	Mode   string
	Loaded bool
	Ref    string
	Hash   string
}

// Data is the receipt's fields; the store adds receipt_id, type and
// timestamp.
func (m SessionMetadata) Data() *canon.Object {
	d := &canon.Object{}
	if m.Seq != nil {
		d.Set("seq", *m.Seq)
	}
	d.Set("session_id", m.SessionID)
	d.Set("trace_id", m.TraceID)
	d.Set("server_id", m.ServerID)
	d.Set("server_transport", m.Transport)
	if m.State != "" {
		d.Set("session_state", m.State)
	}
	d.Set("session_complete", m.Complete)
	reasons := make([]any, len(m.Incomplete))
	for i, r := range m.Incomplete {
		reasons[i] = r
	}
	d.Set("incomplete_reasons", reasons)
	if m.EndedBy != "" {
		d.Set("ended_by", m.EndedBy)
	}
	if m.Closing {
		d.Set("receipt_count", m.ReceiptCount)
		d.Set("tool_calls", m.ToolCalls)
		keys := make([]string, 0, len(m.Outcomes))
		for k := range m.Outcomes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		oc := &canon.Object{}
		for _, k := range keys {
			oc.Set(k, m.Outcomes[k])
		}
		d.Set("outcomes", oc)
	}
	d.Set("started_at", m.StartedAt)
	if m.Closing {
		d.Set("ended_at", m.EndedAt)
	}
	if m.ServerExit != nil {
		se := &canon.Object{}
		se.Set("code", m.ServerExit.Code)
		se.Set("killed", m.ServerExit.Killed)
		se.Set("detail", m.ServerExit.Detail)
		d.Set("server_exit", se)
	}
	if p := m.Policy; p != nil {
		d.Set("policy_mode", p.Mode)
		if p.Loaded {
			d.Set("policy_ref", p.Ref)
			d.Set("policy_hash", p.Hash)
		} else {
			d.Set("policy_ref", nil)
			d.Set("policy_hash", nil)
		}
	}
	if m.ProxyVersion != "" {
		d.Set("proxy_version", m.ProxyVersion)
	}
	d.Set("integration_source", m.IntegrationSource)
	return d
}
