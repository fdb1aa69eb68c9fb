package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/version"
)

// requestIDHeader carries the JSON-RPC id from the call hook to the handler.
const requestIDHeader = "X-Assay-Mcp-Request-Id"

// IntegrationSource names this server in its receipts (the reference's proxy
// writes assay.mcp_proxy).
const IntegrationSource = "assay.mcp_server"

// session is an MCP session and its trace. Over stdio (and in-process) the
// server process is the session: each client starts its own process. Over
// HTTP, each client of the handshake era gets its own session, keyed by its
// Mcp-Session-Id; requests without one (the stateless 2026-07-28 era) share
// the process's session.
type session struct {
	id      string // mcp_<16 hex>
	traceID string
}

func newSession(traceID string) (*session, error) {
	id := receipt.NewID("mcp_", 16)
	if traceID == "" {
		// The reference proxy's shape: mcp_<session id>_<unix seconds>.
		traceID = fmt.Sprintf("mcp_%s_%d", id, time.Now().Unix())
	}
	if err := store.ValidTraceID(traceID); err != nil {
		return nil, fmt.Errorf("trace id %q: %w", traceID, err)
	}
	return &session{id: id, traceID: traceID}, nil
}

// HashJSON returns "sha256:" + hex of the canonical JSON of a JSON document
// (DECISIONS 19).
func HashJSON(doc []byte) (string, error) { return receipt.HashJSON(doc) }

// recordCall appends the mcp_tool_call receipt of one served call, with the
// reference proxy's field names (runtime.md §7.2).
func (s *Server) recordCall(sess *session, tool string, req mcp.CallToolRequest, args json.RawMessage, res *mcp.CallToolResult, start time.Time) error {
	end := time.Now()
	argHash, err := HashJSON(args)
	if err != nil {
		return fmt.Errorf("hash the arguments: %w", err)
	}
	resJSON, err := json.Marshal(ResultForHash(res))
	if err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	resHash, err := HashJSON(resJSON)
	if err != nil {
		return fmt.Errorf("hash the result: %w", err)
	}
	var reqID any
	if h := req.Header.Get(requestIDHeader); h != "" {
		if v, err := canon.Decode([]byte(h)); err == nil {
			reqID = v
		}
	}
	outcome := "completed"
	if res.IsError {
		outcome = "error"
	}
	ms := math.Round(float64(end.Sub(start).Microseconds())/100) / 10
	d := &canon.Object{}
	d.Set("parent_receipt_id", nil)
	d.Set("invocation_id", receipt.NewID("inv_", 16))
	d.Set("session_id", sess.id)
	d.Set("trace_id", sess.traceID)
	d.Set("server_id", ServerName)
	d.Set("server_transport", s.cfg.Transport)
	d.Set("tool_name", tool)
	d.Set("mcp_request_id", reqID)
	d.Set("request_observed_at", receipt.Timestamp(start))
	d.Set("policy_decided_at", nil)
	d.Set("response_observed_at", receipt.Timestamp(end))
	d.Set("arguments_hash", argHash)
	d.Set("arguments_content", nil)
	if s.cfg.StoreArgs {
		if v, err := canon.Decode(args); err == nil {
			d.Set("arguments_content", v)
		}
	}
	d.Set("result_hash", resHash)
	d.Set("result_content", nil)
	if s.cfg.StoreResults {
		if v, err := canon.Decode(resJSON); err == nil {
			d.Set("result_content", v)
		}
	}
	d.Set("result_is_error", res.IsError)
	d.Set("outcome", outcome)
	d.Set("duration_ms", canon.Number(strconv.FormatFloat(ms, 'f', 1, 64)))
	d.Set("policy_verdict", "no_policy")
	d.Set("policy_reason", nil)
	d.Set("policy_ref", nil)
	d.Set("policy_hash", nil)
	d.Set("server_version", version.Version)
	d.Set("integration_source", IntegrationSource)
	_, err = s.store.Emit(sess.traceID, "mcp_tool_call", d, store.EmitOptions{
		ReceiptID: receipt.NewID("mtc_", 16),
		Timestamp: receipt.Timestamp(end),
	})
	return err
}

// ResultForHash is the part of a tool result that result_hash covers: what
// the tool returned (content, isError, structuredContent), without the
// protocol envelope (_meta, resultType) that depends on the client's era.
func ResultForHash(res *mcp.CallToolResult) map[string]any {
	m := map[string]any{"content": res.Content, "isError": res.IsError}
	if res.StructuredContent != nil {
		m["structuredContent"] = res.StructuredContent
	}
	return m
}

// sessionFor returns the session a request belongs to: over HTTP, a
// handshake-era request's own session (see httpSessions); otherwise, and
// for sessionless (2026-07-28) HTTP requests, the process's session.
func (s *Server) sessionFor(ctx context.Context) *session {
	if s.cfg.Transport != TransportHTTP {
		return s.session
	}
	cs := server.ClientSessionFromContext(ctx)
	if cs == nil || cs.SessionID() == "" {
		return s.session
	}
	return s.httpSessionFor(cs.SessionID())
}

// RecordRefusal appends the mcp_tool_call receipt of a tools/call the
// transport refused before mcp-go saw it (a malformed or oversized
// message, see core/jsonrpc): outcome denied, the reason in
// outcome_detail, arguments_hash over the bytes as sent (there are no
// checked arguments). It goes to the process's session (stdio).
func (s *Server) RecordRefusal(id json.RawMessage, tool string, sent []byte, detail string) error {
	return s.recordRefusal(s.session, id, tool, sent, detail)
}

// recordRefusal is RecordRefusal into a given session's trace (over HTTP,
// the refused request's own session).
func (s *Server) recordRefusal(sess *session, id json.RawMessage, tool string, sent []byte, detail string) error {
	if s.cfg.NoRecord {
		return nil
	}
	now := time.Now()
	var reqID any
	if v, err := canon.Decode(id); err == nil && id != nil {
		reqID = v
	}
	resHash, err := receipt.HashValue(map[string]any{"error": detail})
	if err != nil {
		return err
	}
	d := &canon.Object{}
	d.Set("parent_receipt_id", nil)
	d.Set("invocation_id", receipt.NewID("inv_", 16))
	d.Set("session_id", sess.id)
	d.Set("trace_id", sess.traceID)
	d.Set("server_id", ServerName)
	d.Set("server_transport", s.cfg.Transport)
	d.Set("tool_name", tool)
	d.Set("mcp_request_id", reqID)
	d.Set("request_observed_at", receipt.Timestamp(now))
	d.Set("policy_decided_at", nil)
	d.Set("response_observed_at", receipt.Timestamp(now))
	d.Set("arguments_hash", "sha256:"+receipt.SHA256Hex(sent))
	d.Set("arguments_content", nil)
	d.Set("result_hash", resHash)
	d.Set("result_content", nil)
	d.Set("result_is_error", true)
	d.Set("outcome", "denied")
	d.Set("outcome_detail", detail)
	d.Set("duration_ms", canon.Number("0.0"))
	d.Set("policy_verdict", "no_policy")
	d.Set("policy_reason", nil)
	d.Set("policy_ref", nil)
	d.Set("policy_hash", nil)
	d.Set("server_version", version.Version)
	d.Set("integration_source", IntegrationSource)
	_, err = s.store.Emit(sess.traceID, "mcp_tool_call", d, store.EmitOptions{
		ReceiptID: receipt.NewID("mtc_", 16),
		Timestamp: receipt.Timestamp(now),
	})
	return err
}
