// Package mcpdemo runs `assay try-mcp`: the synthetic MCP server behind the
// notary proxy with an enforcing policy, driven by a scripted client, all
// offline, in a temporary store with an ephemeral signing key. It returns
// what happened; the CLI renders it.
package mcpdemo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/jsonrpc"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/mcpproxy"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// Policy is the demo's policy file: enforce, deny destructive tools.
const Policy = `# assay try-mcp demo policy: enforce mode, destructive tools denied.
version: "1"
server_id: try-mcp-demo
mode: enforce
tools:
  default: allow
  deny: ["delete_*"]
  constraints:
    calculate_risk:
      max_calls: 5
budget:
  max_tool_calls: 20
`

// Call is one scripted tool call and what the proxy recorded for it.
type Call struct {
	Tool       string         `json:"tool"`
	Arguments  map[string]any `json:"arguments"`
	Why        string         `json:"why"`
	Outcome    string         `json:"outcome"`
	Verdict    string         `json:"policy_verdict"`
	Reason     string         `json:"policy_reason,omitempty"`
	DurationMS json.Number    `json:"duration_ms"` // a number, as in the receipt
	ReceiptID  string         `json:"receipt_id"`
	// Answer is what the client got: the result's text or the error message.
	Answer string `json:"answer"`
}

// Result is what `assay try-mcp` shows.
type Result struct {
	Calls          []Call            `json:"calls"`
	Session        *mcpproxy.Session `json:"session"`
	ServerReceipts int               `json:"server_receipts"`
	PackReceipts   int               `json:"pack_receipts"`
	Verify         *verify.Result    `json:"verify"`
	// Kept is the directory the pack, policy and session file were copied
	// to (-o); empty when nothing was kept.
	Kept string `json:"kept,omitempty"`
}

var script = []Call{
	{Tool: "get_weather", Arguments: map[string]any{"city": "Lisbon"}, Why: "read-only lookup"},
	{Tool: "check_inventory", Arguments: map[string]any{"sku": "SKU-1042"}, Why: "read-only lookup"},
	{Tool: "calculate_risk", Arguments: map[string]any{"amount": 12500, "country": "PT"}, Why: "read-only scoring"},
	{Tool: "record_action", Arguments: map[string]any{"action": "flagged_transaction"}, Why: "the server writes its own receipt into the same trace"},
	{Tool: "delete_records", Arguments: map[string]any{"table": "customers", "where": "1=1"}, Why: "destructive: the policy denies it before it reaches the server"},
}

// Run runs the demo. serverArgv starts the synthetic server (the CLI
// passes itself: assay mcp demo-server). When keep is non-empty the pack,
// policy and session file are copied there (it must not exist).
func Run(ctx context.Context, serverArgv []string, keep string) (*Result, error) {
	if keep != "" {
		if _, err := os.Lstat(keep); err == nil {
			return nil, exit.Bad("choose a new directory for -o", "%s already exists", keep)
		}
	}
	work, err := os.MkdirTemp("", "assay-try-mcp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	policyPath := filepath.Join(work, "assay.mcp-policy.yaml")
	if err := os.WriteFile(policyPath, []byte(Policy), 0o644); err != nil {
		return nil, err
	}
	pol, err := mcppolicy.Load(policyPath)
	if err != nil {
		return nil, fmt.Errorf("demo policy: %w", err)
	}
	st := store.Open(filepath.Join(work, "home"))
	sid := mcpproxy.NewSessionID()
	traceID := mcpproxy.NewTraceID(sid, time.Now())
	env := append(os.Environ(), store.EnvHome+"="+st.Home, store.EnvTrace+"="+traceID)
	up, err := mcpproxy.StartStdio(mcpproxy.StdioOptions{Argv: serverArgv, Env: env})
	if err != nil {
		return nil, fmt.Errorf("start the demo server: %w", err)
	}
	cr, cw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	done := make(chan *mcpproxy.Session, 1)
	go func() {
		s, _ := mcpproxy.Run(ctx, mcpproxy.Options{
			Upstream: up, Client: cr, ClientOut: pw, Store: st, TraceID: traceID, SessionID: sid,
			ServerID: pol.ServerID, Policy: pol, StoreArgs: true, StoreResults: true, CallTimeout: 10 * time.Second,
		})
		pw.Close()
		cr.Close()
		done <- s
	}()
	c := &client{w: cw, r: mcpproxy.NewReader(pr)}
	calls, cerr := c.script()
	cw.Close()
	pr.Close()
	var sess *mcpproxy.Session
	select {
	case sess = <-done:
	case <-time.After(30 * time.Second):
		return nil, errors.New("the demo session did not end within 30s")
	}
	if cerr != nil {
		return nil, fmt.Errorf("demo client: %w", cerr)
	}
	if sess == nil {
		return nil, errors.New("the demo session did not run")
	}
	art, err := mcpproxy.Finish(st, sess, filepath.Join(work, "mcp"), demo.EphemeralSigner("assay-demo"), "enforced")
	if err != nil {
		return nil, err
	}
	res := &Result{Calls: calls, Session: sess, PackReceipts: art.Receipts}
	recs, _, err := st.Read(traceID)
	if err != nil {
		return nil, err
	}
	byID := map[string]*receipt.Receipt{}
	for _, r := range recs {
		typ, _ := r.Get("type")
		switch typ {
		case "mcp_tool_call":
			if id, ok := r.Get("mcp_request_id"); ok {
				byID[fmt.Sprint(id)] = r
			}
		case "capability_use":
			res.ServerReceipts++
		}
	}
	for i := range res.Calls {
		r := byID[fmt.Sprint(i+1)]
		if r == nil {
			continue
		}
		c := &res.Calls[i]
		c.Outcome, c.Verdict, c.Reason = str(r, "outcome"), str(r, "policy_verdict"), str(r, "policy_reason")
		c.ReceiptID = str(r, "receipt_id")
		if v, ok := r.Get("duration_ms"); ok {
			c.DurationMS = json.Number(fmt.Sprint(v))
		}
	}
	vr, err := verify.Verify(art.Pack.Dir, verify.Options{})
	if err != nil {
		return nil, err
	}
	res.Verify = vr
	if keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return nil, exit.Bad("choose a writable directory for -o", "cannot create %s: %v", keep, err)
		}
		if err := os.CopyFS(filepath.Join(keep, "proof_pack"), os.DirFS(art.Pack.Dir)); err != nil {
			return nil, err
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(keep, "assay.mcp-policy.yaml"), []byte(Policy), 0o644); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(art.SessionFile)
		if err != nil {
			return nil, err
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(keep, filepath.Base(art.SessionFile)), b, 0o644); err != nil {
			return nil, err
		}
		res.Kept = keep
	}
	return res, nil
}

func str(r *receipt.Receipt, k string) string {
	v, _ := r.Get(k)
	s, _ := v.(string)
	return s
}

// client is the demo's scripted MCP client: plain JSON-RPC lines, so the
// demo shows exactly what crosses the proxy.
type client struct {
	w io.Writer
	r *mcpproxy.Reader
}

func (c *client) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = c.w.Write(append(b, '\n'))
	return err
}

func (c *client) request(id int, method string, params any) (map[string]any, error) {
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	for {
		m, err := c.r.Next()
		if err != nil {
			return nil, fmt.Errorf("no answer to %s: %w", method, err)
		}
		msg, err := jsonrpc.Decode(m.Body)
		if err != nil {
			return nil, fmt.Errorf("the proxy sent a message that is not JSON-RPC: %w", err)
		}
		if !msg.IsResponse() || string(msg.ID) != strconv.Itoa(id) {
			continue // a notification or a request from the server: not ours
		}
		out := map[string]any{}
		for k, raw := range map[string]json.RawMessage{"result": msg.Result, "error": msg.Error} {
			if raw == nil {
				continue
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
}

func (c *client) script() ([]Call, error) {
	if _, err := c.request(0, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "assay-try-mcp", "version": "1"}}); err != nil {
		return nil, err
	}
	if err := c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		return nil, err
	}
	if _, err := c.request(100, "tools/list", map[string]any{}); err != nil {
		return nil, err
	}
	calls := append([]Call(nil), script...)
	for i := range calls {
		r, err := c.request(i+1, "tools/call", map[string]any{"name": calls[i].Tool, "arguments": calls[i].Arguments})
		if err != nil {
			return nil, err
		}
		calls[i].Answer = answer(r)
	}
	return calls, nil
}

// answer is the text a client shows for a response.
func answer(r map[string]any) string {
	if e, ok := r["error"].(map[string]any); ok {
		return fmt.Sprint(e["message"])
	}
	res, _ := r["result"].(map[string]any)
	if content, ok := res["content"].([]any); ok && len(content) > 0 {
		if c0, ok := content[0].(map[string]any); ok {
			if s, ok := c0["text"].(string); ok {
				return s
			}
		}
	}
	b, _ := json.Marshal(res)
	return string(b)
}
