package verify

// MCP sessions: whether each proxy session a pack records was closed.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/pack"
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

// checkMCPSessions reads the session_metadata receipts of an intact pack
// and reports each incomplete session in r.MCPSessions and a warning: a
// pack of a partial session never reads as a plain PASS.
func (v *verifier) checkMCPSessions() {
	if v.r.Integrity != VerdictPass {
		return
	}
	// Through the pack's root, as every pack file: regular files only,
	// never a link out, never a blocking read.
	f, err := v.p.OpenFile(pack.FileReceipts)
	if err != nil {
		return
	}
	defer f.Close()
	by := map[string]*MCPSession{}
	closed := map[string]bool{}
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := readBoundedLine(br, maxMetaLine)
		if len(line) > 0 && bytes.Contains(line, []byte(`"session_metadata"`)) {
			var m struct {
				Type      string   `json:"type"`
				SessionID string   `json:"session_id"`
				State     string   `json:"session_state"`
				Complete  *bool    `json:"session_complete"`
				Reasons   []string `json:"incomplete_reasons"`
			}
			if json.Unmarshal(line, &m) == nil && m.Type == "session_metadata" && m.Complete != nil {
				s := by[m.SessionID]
				if s == nil {
					s = &MCPSession{SessionID: m.SessionID}
					by[m.SessionID] = s
				}
				// A closing (or state-less) receipt says how the session
				// ended; an opening one counts only until one arrives.
				if m.State == "open" && closed[m.SessionID] {
					continue
				}
				if m.State != "open" {
					closed[m.SessionID] = true
				}
				s.State, s.Complete, s.IncompleteReasons = m.State, *m.Complete, append([]string{}, m.Reasons...)
			}
		}
		if err != nil {
			break
		}
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

// readBoundedLine reads one line; a line longer than max is skipped and
// returned empty.
func readBoundedLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			return nil, err
		}
		buf = append(buf, chunk...)
		if err != bufio.ErrBufferFull {
			return buf, err
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
