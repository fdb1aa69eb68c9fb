package verify

// MCP sessions: whether each proxy session a pack records was closed.

import (
	"encoding/json"
	"sort"
	"strings"
)

// MCPSession is an MCP proxy session recorded in a pack's receipts and
// how it ended. The proxy writes an opening session_metadata receipt
// (session_state "open") when a session starts and a closing one when it
// ends; a session with only the opening receipt was never closed (the
// proxy was killed or crashed), so it is incomplete whatever else holds.
type MCPSession struct {
	SessionID string `json:"session_id"`
	// State is "closed", "open" (never closed), or "" for a receipt
	// without a state (the reference's, written once at the end).
	State             string   `json:"session_state"`
	Complete          bool     `json:"session_complete"`
	IncompleteReasons []string `json:"incomplete_reasons"`
}

// maxMetaLine bounds a session_metadata line read here; longer lines
// are not session metadata the proxy wrote.
const maxMetaLine = 1 << 20

// sessionMeta is what one session_metadata receipt says about its
// session. The receipt scan collects them in pack order as it reads each
// line (one pass over the file: they are few, and only their type is
// looked at in the others).
type sessionMeta struct {
	SessionID string   `json:"session_id"`
	State     string   `json:"session_state"`
	Complete  *bool    `json:"session_complete"`
	Reasons   []string `json:"incomplete_reasons"`
}

// parseSessionMeta reads a session_metadata receipt line; ok is false for
// one that says nothing about completeness (or is too long to be the
// proxy's).
func parseSessionMeta(line []byte) (sessionMeta, bool) {
	var m sessionMeta
	if len(line) > maxMetaLine || json.Unmarshal(line, &m) != nil || m.Complete == nil {
		return sessionMeta{}, false
	}
	return m, true
}

// checkMCPSessions reports each incomplete session of an intact pack in
// r.MCPSessions and a warning: a pack of a partial session never reads as
// a plain PASS.
func (v *verifier) checkMCPSessions() {
	if v.r.Integrity != VerdictPass {
		return
	}
	by := map[string]*MCPSession{}
	closed := map[string]bool{}
	for _, m := range v.rcpt.sessions {
		s := by[m.SessionID]
		if s == nil {
			s = &MCPSession{SessionID: m.SessionID}
			by[m.SessionID] = s
		}
		// A closing (or state-less) receipt says how the session ended;
		// an opening one counts only until one arrives.
		if m.State == "open" && closed[m.SessionID] {
			continue
		}
		if m.State != "open" {
			closed[m.SessionID] = true
		}
		s.State, s.Complete, s.IncompleteReasons = m.State, *m.Complete, append([]string{}, m.Reasons...)
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := by[id]
		v.r.MCPSessions = append(v.r.MCPSessions, *s)
		if !s.Complete {
			why := strings.Join(s.IncompleteReasons, "; ")
			if why == "" {
				why = "no reason recorded"
			}
			v.r.Warnings = append(v.r.Warnings, "MCP session "+id+" is INCOMPLETE: "+why)
		}
	}
}

// IncompleteMCPSessions counts the incomplete sessions of r.MCPSessions.
func (r *Result) IncompleteMCPSessions() int {
	n := 0
	for _, s := range r.MCPSessions {
		if !s.Complete {
			n++
		}
	}
	return n
}
