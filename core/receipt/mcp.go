package receipt

import (
	"strconv"
	"time"

	"github.com/assay-dev/assay/core/canon"
)

// TypeMCPToolCall is the receipt type of one MCP tools/call.
const TypeMCPToolCall = "mcp_tool_call"

// MCPToolCall is the mcp_tool_call receipt of one tools/call, with the
// reference proxy's fields (runtime.md §7.2) plus outcome_detail,
// policy_mode and policy_rule. The MCP proxy and the MCP server both build
// it here, so the receipt has one shape whoever records it. Data holds its
// fields; the store adds receipt_id, type and timestamp.
type MCPToolCall struct {
	// Seq is the proxy's per-session call counter (nil: no seq field).
	Seq          *int64
	InvocationID string
	SessionID    string
	TraceID      string
	ServerID     string
	Transport    string
	ToolName     string
	RequestID    any // the JSON-RPC id as sent (nil: null)

	RequestAt  time.Time
	DecidedAt  time.Time // zero: null (no policy decided)
	ResponseAt time.Time

	ArgumentsHash    string
	ArgumentsContent any    // nil: null (arguments not stored)
	ResultHash       string // "": null (no result to hash)
	ResultContent    any    // nil: null (result not stored)
	ResultIsError    bool
	Outcome          string
	OutcomeDetail    string // "": no outcome_detail field
	// DurationMS is written with one decimal.
	DurationMS float64

	// Policy is the decision of the proxy's policy; nil: no_policy.
	Policy *MCPPolicy

	// ProxyVersion or ServerVersion names the recorder's version (the
	// proxy writes proxy_version, a server server_version).
	ProxyVersion  string
	ServerVersion string
	Source        string // integration_source
}

// MCPPolicy is the policy decision an mcp_tool_call receipt records.
type MCPPolicy struct {
	Verdict string
	Reason  string // "": null
	Ref     string // the policy file
	Hash    string
	Mode    string
	Rule    string // "": null
}

// Data returns the receipt's fields in the reference's order.
func (c *MCPToolCall) Data() *canon.Object {
	d := &canon.Object{}
	if c.Seq != nil {
		d.Set("seq", *c.Seq)
	}
	d.Set("parent_receipt_id", nil)
	d.Set("invocation_id", c.InvocationID)
	d.Set("session_id", c.SessionID)
	d.Set("trace_id", c.TraceID)
	d.Set("server_id", c.ServerID)
	d.Set("server_transport", c.Transport)
	d.Set("tool_name", c.ToolName)
	d.Set("mcp_request_id", c.RequestID)
	d.Set("request_observed_at", Timestamp(c.RequestAt))
	d.Set("policy_decided_at", timeOrNil(c.DecidedAt))
	d.Set("response_observed_at", Timestamp(c.ResponseAt))
	d.Set("arguments_hash", c.ArgumentsHash)
	d.Set("arguments_content", c.ArgumentsContent)
	d.Set("result_hash", stringOrNil(c.ResultHash))
	d.Set("result_content", c.ResultContent)
	d.Set("result_is_error", c.ResultIsError)
	d.Set("outcome", c.Outcome)
	if c.OutcomeDetail != "" {
		d.Set("outcome_detail", c.OutcomeDetail)
	}
	d.Set("duration_ms", canon.Number(strconv.FormatFloat(c.DurationMS, 'f', 1, 64)))
	if p := c.Policy; p == nil {
		d.Set("policy_verdict", "no_policy")
		d.Set("policy_reason", nil)
		d.Set("policy_ref", nil)
		d.Set("policy_hash", nil)
	} else {
		d.Set("policy_verdict", p.Verdict)
		d.Set("policy_reason", stringOrNil(p.Reason))
		d.Set("policy_ref", p.Ref)
		d.Set("policy_hash", p.Hash)
		d.Set("policy_mode", p.Mode)
		d.Set("policy_rule", stringOrNil(p.Rule))
	}
	if c.ProxyVersion != "" {
		d.Set("proxy_version", c.ProxyVersion)
	}
	if c.ServerVersion != "" {
		d.Set("server_version", c.ServerVersion)
	}
	d.Set("integration_source", c.Source)
	return d
}

func stringOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return Timestamp(t)
}
