package receipt

import (
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
)

// The mcp_tool_call fields in the reference's order, nulls where nothing
// was decided, hashed or stored; the proxy's policy fields and seq only
// when it has them.
func TestMCPToolCallData(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	seq := int64(3)
	for _, tc := range []struct {
		name string
		c    MCPToolCall
		want string
	}{
		{"server call", MCPToolCall{
			InvocationID: "inv_1", SessionID: "mcp_1", TraceID: "t", ServerID: "assay", Transport: "stdio",
			ToolName: "scan", RequestID: int64(7), RequestAt: at, ResponseAt: at.Add(1500 * time.Microsecond),
			ArgumentsHash: "sha256:a", ResultHash: "sha256:r", Outcome: "completed", DurationMS: 1.5,
			ServerVersion: "1.0", Source: "assay.mcp_server",
		}, `{"parent_receipt_id":null,"invocation_id":"inv_1","session_id":"mcp_1","trace_id":"t","server_id":"assay","server_transport":"stdio","tool_name":"scan","mcp_request_id":7,"request_observed_at":"2026-01-15T12:00:00+00:00","policy_decided_at":null,"response_observed_at":"2026-01-15T12:00:00.001500+00:00","arguments_hash":"sha256:a","arguments_content":null,"result_hash":"sha256:r","result_content":null,"result_is_error":false,"outcome":"completed","duration_ms":1.5,"policy_verdict":"no_policy","policy_reason":null,"policy_ref":null,"policy_hash":null,"server_version":"1.0","integration_source":"assay.mcp_server"}`},
		{"proxy denial", MCPToolCall{
			Seq: &seq, InvocationID: "inv_2", SessionID: "mcp_2", TraceID: "t", ServerID: "up", Transport: "http",
			ToolName: "rm", RequestID: "x", RequestAt: at, DecidedAt: at, ResponseAt: at,
			ArgumentsHash: "sha256:a", ArgumentsContent: map[string]any{"p": "/"}, ResultIsError: true,
			Outcome: "denied", OutcomeDetail: "policy", DurationMS: 0,
			Policy:       &MCPPolicy{Verdict: "deny", Ref: "p.yaml", Hash: "h", Mode: "enforce", Rule: "r1"},
			ProxyVersion: "1.0", Source: "assay.mcp_proxy",
		}, `{"seq":3,"parent_receipt_id":null,"invocation_id":"inv_2","session_id":"mcp_2","trace_id":"t","server_id":"up","server_transport":"http","tool_name":"rm","mcp_request_id":"x","request_observed_at":"2026-01-15T12:00:00+00:00","policy_decided_at":"2026-01-15T12:00:00+00:00","response_observed_at":"2026-01-15T12:00:00+00:00","arguments_hash":"sha256:a","arguments_content":{"p":"/"},"result_hash":null,"result_content":null,"result_is_error":true,"outcome":"denied","outcome_detail":"policy","duration_ms":0,"policy_verdict":"deny","policy_reason":null,"policy_ref":"p.yaml","policy_hash":"h","policy_mode":"enforce","policy_rule":"r1","proxy_version":"1.0","integration_source":"assay.mcp_proxy"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canon.Options{KeepOrder: true}.Marshal(tc.c.Data())
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
