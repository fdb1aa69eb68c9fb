package receipt

import (
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

func keysOf(o *canon.Object) string {
	ks := make([]string, len(o.Members))
	for i, m := range o.Members {
		ks[i] = m.Key
	}
	return strings.Join(ks, ",")
}

// TestSessionMetadataShapes pins the three documented session_metadata
// shapes (the proxy's opening and closing receipts, the HTTP server's
// closing one): one constructor, each producer's fields in one order.
func TestSessionMetadataShapes(t *testing.T) {
	t.Parallel()
	seq := int64(3)
	cases := []struct {
		name string
		m    SessionMetadata
		want string
	}{
		{"proxy open, no policy", SessionMetadata{Seq: &seq, State: "open", Incomplete: []string{"not closed"}, Policy: &SessionPolicy{Mode: "none"}, ProxyVersion: "v", IntegrationSource: "p"},
			"seq,session_id,trace_id,server_id,server_transport,session_state,session_complete,incomplete_reasons,started_at,policy_mode,policy_ref,policy_hash,proxy_version,integration_source"},
		{"proxy closed", SessionMetadata{Seq: &seq, State: "closed", Complete: true, Closing: true, Outcomes: map[string]int{"forwarded": 2, "denied": 1}, ServerExit: &ServerExit{}, Policy: &SessionPolicy{Mode: "enforce", Loaded: true, Ref: "p.yaml", Hash: "h"}, ProxyVersion: "v", IntegrationSource: "p"},
			"seq,session_id,trace_id,server_id,server_transport,session_state,session_complete,incomplete_reasons,receipt_count,tool_calls,outcomes,started_at,ended_at,server_exit,policy_mode,policy_ref,policy_hash,proxy_version,integration_source"},
		{"http server closed", SessionMetadata{EndedBy: "client", Closing: true, IntegrationSource: "s"},
			"session_id,trace_id,server_id,server_transport,session_complete,incomplete_reasons,ended_by,receipt_count,tool_calls,outcomes,started_at,ended_at,integration_source"},
	}
	for _, c := range cases {
		d := c.m.Data()
		if got := keysOf(d); got != c.want {
			t.Errorf("%s: keys\n got %s\nwant %s", c.name, got, c.want)
		}
		b, err := canon.Marshal(d)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		s := string(b)
		switch c.name {
		case "proxy open, no policy":
			if !strings.Contains(s, `"policy_hash":null`) || !strings.Contains(s, `"incomplete_reasons":["not closed"]`) {
				t.Errorf("%s: %s", c.name, s)
			}
		case "proxy closed":
			if !strings.Contains(s, `"outcomes":{"denied":1,"forwarded":2}`) || !strings.Contains(s, `"policy_ref":"p.yaml"`) {
				t.Errorf("%s: %s", c.name, s)
			}
		case "http server closed":
			if !strings.Contains(s, `"incomplete_reasons":[]`) || !strings.Contains(s, `"outcomes":{}`) {
				t.Errorf("%s: %s", c.name, s)
			}
		}
	}
}
