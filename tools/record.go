package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
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
	m := s.callReceipt(sess, tool, reqID, start, end)
	m.ArgumentsHash, m.ResultHash, m.ResultIsError, m.Outcome = argHash, resHash, res.IsError, outcome
	m.DurationMS = math.Round(float64(end.Sub(start).Microseconds())/100) / 10
	if s.cfg.StoreArgs {
		if v, err := canon.Decode(args); err == nil {
			m.ArgumentsContent = v
		}
	}
	if s.cfg.StoreResults {
		if v, err := canon.Decode(resJSON); err == nil {
			m.ResultContent = v
		}
	}
	d := m.Data()
	_, err = s.store.Emit(sess.traceID, receipt.TypeMCPToolCall, d, store.EmitOptions{
		ReceiptID: receipt.NewID("mtc_", 16),
		Timestamp: receipt.Timestamp(end),
	})
	return err
}

// callReceipt is the part of an mcp_tool_call receipt this server fills
// alike for every call: who recorded it, which call, and when.
func (s *Server) callReceipt(sess *session, tool string, reqID any, start, end time.Time) receipt.MCPToolCall {
	return receipt.MCPToolCall{
		InvocationID: receipt.NewID("inv_", 16), SessionID: sess.id, TraceID: sess.traceID,
		ServerID: ServerName, Transport: s.cfg.Transport, ToolName: tool, RequestID: reqID,
		RequestAt: start, ResponseAt: end, ServerVersion: version.Version, Source: IntegrationSource,
	}
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
	m := s.callReceipt(sess, tool, reqID, now, now)
	m.ArgumentsHash, m.ResultHash, m.ResultIsError = "sha256:"+receipt.SHA256Hex(sent), resHash, true
	m.Outcome, m.OutcomeDetail = "denied", detail
	d := m.Data()
	_, err = s.store.Emit(sess.traceID, receipt.TypeMCPToolCall, d, store.EmitOptions{
		ReceiptID: receipt.NewID("mtc_", 16),
		Timestamp: receipt.Timestamp(now),
	})
	return err
}
