package verify

// MCP sessions: whether each proxy session a pack records was closed.

import (
	"encoding/json"
	"fmt"
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
// session.
type sessionMeta struct {
	SessionID string   `json:"session_id"`
	State     string   `json:"session_state"`
	Complete  *bool    `json:"session_complete"`
	Reasons   []string `json:"incomplete_reasons"`
}

// Bounds on what the session check keeps, whatever a pack holds: at most
// maxSessions sessions (the rest are counted and named in a warning), and
// of each receipt's reasons the first maxReasons, each cut at
// maxReasonBytes.
const (
	maxReasons     = 16
	maxReasonBytes = 512
)

// maxSessions is a variable so a test can lower it.
var maxSessions = 100_000

// parseSessionMeta reads a session_metadata receipt line; ok is false for
// one that says nothing about completeness (or is too long to be the
// proxy's).
func parseSessionMeta(line []byte) (sessionMeta, bool) {
	var m sessionMeta
	if len(line) > maxMetaLine || json.Unmarshal(line, &m) != nil || m.Complete == nil {
		return sessionMeta{}, false
	}
	m.Reasons = m.Reasons[:min(len(m.Reasons), maxReasons)]
	for i, r := range m.Reasons {
		if len(r) > maxReasonBytes {
			m.Reasons[i] = strings.ToValidUTF8(r[:maxReasonBytes], "") + "..."
		}
	}
	return m, true
}

// sessionEnds is what the session_metadata receipts of a stretch of the
// pack say, per session: its last closing (or state-less) receipt and its
// last opening one. A closing receipt says how a session ended and an
// opening one counts only until a closing one arrives, so the verdict is
// the last closing receipt if there is one, else the last opening one;
// stretches fold in pack order (later ones win), which lets the receipt
// scan keep one entry per session instead of every receipt.
type sessionEnds struct {
	by      map[string]*sessionEnd
	dropped int // receipts of sessions past maxSessions
}

type sessionEnd struct{ closing, opening *sessionMeta }

func (e *sessionEnds) reset() {
	clear(e.by)
	e.dropped = 0
}

func (e *sessionEnds) slot(id string) *sessionEnd {
	if e.by == nil {
		e.by = map[string]*sessionEnd{}
	}
	s := e.by[id]
	if s == nil && len(e.by) < maxSessions {
		s = &sessionEnd{}
		e.by[id] = s
	}
	return s
}

// add takes one receipt, after every earlier one.
func (e *sessionEnds) add(m sessionMeta) {
	s := e.slot(m.SessionID)
	switch {
	case s == nil:
		e.dropped++
	case m.State == "open":
		s.opening = &m
	default:
		s.closing = &m
	}
}

// fold takes a later stretch's ends.
func (e *sessionEnds) fold(later *sessionEnds) {
	for id, l := range later.by {
		s := e.slot(id)
		if s == nil {
			e.dropped++
			continue
		}
		if l.closing != nil {
			s.closing = l.closing
		}
		if l.opening != nil {
			s.opening = l.opening
		}
	}
	e.dropped += later.dropped
}

// checkMCPSessions reports each incomplete session of an intact pack in
// r.MCPSessions and a warning: a pack of a partial session never reads as
// a plain PASS.
func (v *verifier) checkMCPSessions() {
	if v.r.Integrity != VerdictPass {
		return
	}
	ends := &v.rcpt.sessions
	ids := make([]string, 0, len(ends.by))
	for id := range ends.by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := ends.by[id].closing
		if m == nil {
			m = ends.by[id].opening
		}
		s := MCPSession{SessionID: id, State: m.State, Complete: *m.Complete, IncompleteReasons: append([]string{}, m.Reasons...)}
		v.r.MCPSessions = append(v.r.MCPSessions, s)
		if !s.Complete {
			why := strings.Join(s.IncompleteReasons, "; ")
			if why == "" {
				why = "no reason recorded"
			}
			v.r.Warnings = append(v.r.Warnings, "MCP session "+id+" is INCOMPLETE: "+why)
		}
	}
	if ends.dropped > 0 {
		v.r.Warnings = append(v.r.Warnings, fmt.Sprintf("%d session_metadata receipts belong to sessions past the first %d: their completeness is NOT checked", ends.dropped, maxSessions))
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
