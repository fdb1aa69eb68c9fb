package verify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/receipt"
)

// TestMCPSessionsAcrossChunks: session_metadata receipts are read in the
// one pass over the receipts, in pack order, however the file is cut into
// chunks: a session closed in a later chunk is complete, one left open is
// incomplete (a warning), and an opening receipt after the closing one
// does not reopen it.
func TestMCPSessionsAcrossChunks(t *testing.T) {
	t.Parallel()
	var recs []*receipt.Receipt
	n := 0
	add := func(kv ...any) {
		base := []any{"receipt_id", fmt.Sprintf("r%05d", n), "timestamp", "2026-01-15T11:59:00+00:00", "seq", n}
		recs = append(recs, rc(append(base, kv...)...))
		n++
	}
	meta := func(id, state string, complete bool, reasons ...string) {
		rs := make([]any, len(reasons))
		for i, r := range reasons {
			rs[i] = r
		}
		add("type", "session_metadata", "session_id", id, "session_state", state, "session_complete", complete, "incomplete_reasons", rs)
	}
	filler := func(k int) {
		for i := 0; i < k; i++ {
			add("type", "model_call", "model_id", "gpt-4o", "note", strings.Repeat("x", 200))
		}
	}
	meta("a", "open", false, "session still open")
	meta("b", "open", false, "session still open")
	meta("c", "closed", true)
	filler(3000) // about 0.9 MB: the receipts span several read chunks
	meta("a", "closed", true)
	meta("c", "open", false, "a stray opening receipt")
	filler(10)
	r, err := Verify(buildPack(t, recs, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range r.MCPSessions {
		got[s.SessionID] = s.Complete
	}
	if len(r.MCPSessions) != 3 || !got["a"] || got["b"] || !got["c"] || r.IncompleteMCPSessions() != 1 {
		t.Fatalf("sessions %+v", r.MCPSessions)
	}
	if w := strings.Join(r.Warnings, "\n"); !strings.Contains(w, "MCP session b is INCOMPLETE: session still open") || strings.Contains(w, "session a") || strings.Contains(w, "session c") {
		t.Fatalf("warnings: %s", w)
	}
}

// TestMCPSessionsBounded: what the check keeps does not grow with what a
// hostile pack holds: sessions past the bound are counted and named in a
// warning (never silently passed), and reasons are cut.
func TestMCPSessionsBounded(t *testing.T) {
	saved := maxSessions
	maxSessions = 3
	defer func() { maxSessions = saved }()
	var recs []*receipt.Receipt
	for i := 0; i < 8; i++ {
		reasons := make([]any, 40)
		for k := range reasons {
			reasons[k] = strings.Repeat("r", 2000)
		}
		recs = append(recs, rc("receipt_id", fmt.Sprintf("r%d", i), "timestamp", "2026-01-15T11:59:00+00:00", "seq", i,
			"type", "session_metadata", "session_id", fmt.Sprintf("s%d", i), "session_state", "open", "session_complete", false, "incomplete_reasons", reasons))
	}
	r, err := Verify(buildPack(t, recs, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.MCPSessions) != 3 {
		t.Fatalf("%d sessions kept, want 3", len(r.MCPSessions))
	}
	for _, s := range r.MCPSessions {
		if len(s.IncompleteReasons) != maxReasons || len(s.IncompleteReasons[0]) != maxReasonBytes+3 {
			t.Fatalf("reasons not bounded: %d of %d bytes", len(s.IncompleteReasons), len(s.IncompleteReasons[0]))
		}
	}
	if w := strings.Join(r.Warnings, "\n"); !strings.Contains(w, "5 session_metadata receipts belong to sessions past the first 3") {
		t.Fatalf("warnings: %.300s", w)
	}
}
