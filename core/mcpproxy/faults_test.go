package mcpproxy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/verify"
)

// Each fault: the proxy never hangs, records what happened, and the
// session is incomplete, still packed, with a pack that verifies and whose
// session_metadata receipt says session_complete false.
func TestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    func(*Options)
		drive   func(t *testing.T, h *harness, c *lineClient)
		outcome string // the faulty call's receipt outcome
		reason  string // part of an incomplete reason
		check   func(t *testing.T, s *Session)
	}{
		{
			name: "server crashes mid-call",
			drive: func(t *testing.T, h *harness, c *lineClient) {
				r := c.call(1, "crash", map[string]any{"code": 7})
				if errCode(r) != CodeServerGone {
					t.Errorf("the client got %v, want a %d error", r, CodeServerGone)
				}
			},
			outcome: OutcomeError,
			reason:  "exited 7",
			check: func(t *testing.T, s *Session) {
				if s.ServerExit.Code != 7 {
					t.Errorf("server exit %+v", s.ServerExit)
				}
			},
		},
		{
			name: "server hangs past the timeout",
			opts: func(o *Options) { o.CallTimeout = 300 * time.Millisecond; o.Grace = 300 * time.Millisecond },
			drive: func(t *testing.T, h *harness, c *lineClient) {
				start := time.Now()
				r := c.call(1, "hang", map[string]any{})
				if errCode(r) != CodeTimeout {
					t.Errorf("the client got %v, want a %d error", r, CodeTimeout)
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("timeout answered after %s", d)
				}
				// The session goes on: a later call still works.
				if r := c.call(2, "get_weather", map[string]any{"city": "Oslo"}); r["result"] == nil {
					t.Errorf("call after a timeout: %v", r)
				}
				h.closeClient()
			},
			outcome: OutcomeTimeout,
			reason:  "terminated",
			check: func(t *testing.T, s *Session) {
				if !s.ServerExit.Killed || s.Outcomes[OutcomeForwarded] != 1 {
					t.Errorf("server exit %+v, outcomes %v", s.ServerExit, s.Outcomes)
				}
			},
		},
		{
			name: "server writes garbage to stdout",
			drive: func(t *testing.T, h *harness, c *lineClient) {
				r := c.call(1, "garbage", map[string]any{"text": "DEBUG: hello from print()"})
				if r["result"] == nil {
					t.Errorf("garbage call: %v", r)
				}
				h.closeClient()
			},
			outcome: OutcomeForwarded,
			reason:  "non-JSON-RPC",
			check: func(t *testing.T, s *Session) {
				if s.GarbageMessages != 1 {
					t.Errorf("garbage messages %d", s.GarbageMessages)
				}
			},
		},
		{
			name: "client disconnects mid-call",
			drive: func(t *testing.T, h *harness, c *lineClient) {
				c.send(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": "slow", "arguments": map[string]any{"ms": 300}}})
				time.Sleep(50 * time.Millisecond)
				h.closeClient()
				h.fromProxy.Close()
			},
			outcome: OutcomeForwarded,
			reason:  "client disconnected",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startProxy(t, tc.opts)
			c := newLineClient(h)
			c.handshake()
			tc.drive(t, h, c)
			s := h.wait()
			if s.Complete {
				t.Fatalf("session complete; want incomplete")
			}
			if !strings.Contains(strings.Join(s.Incomplete, "; "), tc.reason) {
				t.Errorf("incomplete reasons %q lack %q", s.Incomplete, tc.reason)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			var found bool
			for _, r := range h.receipts("mcp_tool_call") {
				if v, _ := r.Get("mcp_request_id"); v != nil && strings.TrimSpace(string(mustJSON(v))) == "1" {
					found = true
					if got := field(r, "outcome"); got != tc.outcome {
						t.Errorf("call 1 outcome %q, want %q (%s)", got, tc.outcome, field(r, "outcome_detail"))
					}
				}
			}
			if !found {
				t.Fatal("no receipt for call 1")
			}
			art, err := Finish(h.st, s, t.TempDir(), demo.EphemeralSigner("fault-test"), "shadow")
			if err != nil || art.Pack == nil {
				t.Fatalf("no pack for an incomplete session: %v", err)
			}
			// Intact evidence of an incomplete session: the pack's
			// mcp_session_complete claim fails (honest failure, exit 1).
			res, err := verify.Verify(art.Pack.Dir, verify.Options{})
			if err != nil || res.ExitCode != 1 || res.Integrity != verify.VerdictPass || res.ClaimVerdict != "HONEST_FAIL" {
				t.Fatalf("pack verifies with exit %d (%v)", res.ExitCode, err)
			}
			md := SessionMetadata(h.receipts("session_metadata"))
			if v, _ := md.Get("session_complete"); v != false {
				t.Errorf("session_metadata session_complete = %v", v)
			}
			if !bytes.Contains(mustJSON(md), []byte(tc.reason)) {
				t.Errorf("session_metadata lacks the reason %q: %s", tc.reason, mustJSON(md))
			}
		})
	}
}

// An interrupt (the CLI's SIGINT/SIGTERM) ends the session promptly even
// though the client is still connected, marked incomplete; a clean close
// by the client is complete.
func TestInterruptAndCleanClose(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	c := newLineClient(h)
	c.handshake()
	start := time.Now()
	h.cancel()
	s := h.wait()
	if s.Complete || !strings.Contains(strings.Join(s.Incomplete, ";"), "interrupted") {
		t.Fatalf("interrupted session: complete %v %v", s.Complete, s.Incomplete)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("interrupt took %s", d)
	}

	h2 := startProxy(t, nil)
	newLineClient(h2).handshake()
	h2.closeClient()
	if s := h2.wait(); !s.Complete || s.ServerExit.Code != 0 {
		t.Fatalf("a clean close: complete %v %v exit %+v", s.Complete, s.Incomplete, s.ServerExit)
	}
}
