package claims

import (
	"sort"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/core/receipt"
)

// MCPSessionCard is the built-in card whose claim fails for a pack holding
// an MCP proxy session that did not close completely: the proxy writes an
// opening session_metadata receipt (session_state "open") when a session
// starts and a closing one when it ends, so a proxy killed mid-session
// (SIGKILL, a crash) leaves only the opening one. Ours, not the
// reference's.
const MCPSessionCard = "mcp_session_complete"

func init() {
	checks["mcp_sessions_complete"] = checkMCPSessions
	builtins[MCPSessionCard] = &Card{
		CardID:      MCPSessionCard,
		Name:        "MCP Session Complete",
		Description: "Every MCP proxy session in the pack closed, and closed complete.",
		Claims: []Claim{{
			ClaimID:     "mcp_sessions_complete",
			Description: "Every MCP session has a closing session_metadata receipt with session_complete true",
			Check:       "mcp_sessions_complete",
			Params:      map[string]any{},
			Severity:    Critical,
		}},
	}
}

// checkMCPSessions passes when every session named by a session_metadata
// receipt has a closing one (session_state other than "open") saying
// session_complete true. A pack without sessions passes (nothing open).
func checkMCPSessions(_ map[string]any, receipts []*receipt.Receipt, _ Env) Result {
	type state struct {
		closed, complete bool
		ids              []string
	}
	by := map[string]*state{}
	for _, r := range receipts {
		if typeOf(r) != "session_metadata" {
			continue
		}
		sid := getStr(r, "session_id")
		s := by[sid]
		if s == nil {
			s = &state{}
			by[sid] = s
		}
		s.ids = append(s.ids, idOf(r))
		if getStr(r, "session_state") == "open" {
			continue
		}
		c, _ := r.Get("session_complete")
		s.closed = true
		s.complete = c == true
	}
	var bad, evidence []string
	for sid, s := range by {
		switch {
		case !s.closed:
			bad = append(bad, sid+" (never closed)")
			evidence = append(evidence, s.ids...)
		case !s.complete:
			bad = append(bad, sid+" (incomplete)")
			evidence = append(evidence, s.ids...)
		}
	}
	sort.Strings(bad)
	sort.Strings(evidence)
	actual := "all " + plural(len(by)) + " complete"
	if len(bad) > 0 {
		actual = strings.Join(bad, ", ")
	}
	return Result{
		Passed:             len(bad) == 0,
		Expected:           "every MCP session closed complete",
		Actual:             actual,
		EvidenceReceiptIDs: evidence,
	}
}

func plural(n int) string {
	if n == 1 {
		return "1 session"
	}
	return strconv.Itoa(n) + " sessions"
}
