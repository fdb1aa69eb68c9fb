package mcpserver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/store"
)

// hints are the four tool annotations, always sent explicitly: mcp-go's
// defaults (destructive, open world) would make clients ask for approval.
type hints struct{ readOnly, destructive, idempotent, openWorld bool }

var (
	readOnly = hints{readOnly: true, idempotent: true}
	writes   = hints{} // changes something outside, not destructively
)

func tool(name, title, desc string, h hints, schema string) mcp.Tool {
	b := func(v bool) *bool { return &v }
	return mcp.Tool{
		Name:           name,
		Description:    desc,
		RawInputSchema: json.RawMessage(schema),
		Annotations: mcp.ToolAnnotation{
			Title:           title,
			ReadOnlyHint:    b(h.readOnly),
			DestructiveHint: b(h.destructive),
			IdempotentHint:  b(h.idempotent),
			OpenWorldHint:   b(h.openWorld),
		},
	}
}

// handler logs each call (never its arguments, which may carry secrets).
func (e *env) handler(name string, fn server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		e.log.Debug().Str("tool", name).Msg("tool call")
		res, err := fn(ctx, req)
		if err == nil && res != nil && res.IsError {
			e.log.Debug().Str("tool", name).Msg("tool call returned an error result")
		}
		return res, err
	}
}

func (e *env) demoTools() []server.ServerTool {
	return []server.ServerTool{
		{Tool: tool("get_weather", "Get weather (synthetic)",
			"Current weather for a city. Synthetic demo data: the same city always gets the same answer.", readOnly,
			`{"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":100,"description":"City name, e.g. Paris"}},"required":["city"],"additionalProperties":false}`),
			Handler: e.handler("get_weather", getWeather)},
		{Tool: tool("check_inventory", "Check inventory (synthetic)",
			"Stock level of a product by SKU. Synthetic demo data: the same SKU always gets the same answer.", readOnly,
			`{"type":"object","properties":{"sku":{"type":"string","minLength":1,"maxLength":64,"description":"Stock keeping unit, e.g. SKU-1042"}},"required":["sku"],"additionalProperties":false}`),
			Handler: e.handler("check_inventory", checkInventory)},
		{Tool: tool("calculate_risk", "Calculate transaction risk (synthetic)",
			"Risk score (0-100) of a transaction. Synthetic demo scoring derived from the inputs, not a real risk model.", readOnly,
			`{"type":"object","properties":{"amount":{"type":"number","minimum":0,"description":"Transaction amount in the account currency"},"country":{"type":"string","pattern":"^[A-Za-z]{2}$","description":"ISO 3166-1 alpha-2 country code of the counterparty (default US)"}},"required":["amount"],"additionalProperties":false}`),
			Handler: e.handler("calculate_risk", calculateRisk)},
		{Tool: tool("delete_records", "Delete records (synthetic, does nothing)",
			"Deletes the rows of a table that match a condition. In this demo server it never deletes anything: it reports what it would have deleted.",
			hints{destructive: true, idempotent: true},
			`{"type":"object","properties":{"table":{"type":"string","pattern":"^[A-Za-z_][A-Za-z0-9_]{0,62}$","description":"Table name, e.g. customers"},"where":{"type":"string","minLength":1,"maxLength":500,"description":"SQL-like condition selecting the rows, e.g. created_at < '2020-01-01'"}},"required":["table","where"],"additionalProperties":false}`),
			Handler: e.handler("delete_records", deleteRecords)},
		{Tool: tool("record_action", "Record an action as a receipt",
			"Appends a capability_use receipt for the action to the assay trace named by ASSAY_TRACE_ID (set by assay mcp-proxy) and returns its receipt id.",
			writes,
			`{"type":"object","properties":{"action":{"type":"string","minLength":1,"maxLength":200,"description":"What the agent did, e.g. sent_invoice"}},"required":["action"],"additionalProperties":false}`),
			Handler: e.handler("record_action", e.recordAction)},
	}
}

// pick derives a stable number in [0, n) from the tool and its input, so a
// demo answer never depends on time or chance.
func pick(n uint64, parts ...string) uint64 {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return binary.BigEndian.Uint64(h[:8]) % n
}

func getWeather(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	city, err := req.RequireString("city")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	key := strings.ToLower(strings.TrimSpace(city))
	conditions := []string{"sunny", "partly cloudy", "overcast", "light rain", "windy"}
	out := map[string]any{
		"city":          city,
		"conditions":    conditions[pick(uint64(len(conditions)), "weather", key)],
		"temperature_c": int(pick(40, "temp", key)) - 5,
		"humidity_pct":  30 + int(pick(61, "humidity", key)),
		"synthetic":     true,
	}
	text := fmt.Sprintf("Weather in %s: %d C, %s, humidity %d%% (synthetic demo data)",
		city, out["temperature_c"], out["conditions"], out["humidity_pct"])
	return mcp.NewToolResultStructured(out, text), nil
}

func checkInventory(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	sku, err := req.RequireString("sku")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	key := strings.ToUpper(strings.TrimSpace(sku))
	qty := int(pick(500, "qty", key))
	if pick(8, "out", key) == 0 {
		qty = 0 // some SKUs are out of stock, so the demo shows both answers
	}
	warehouses := []string{"north", "south", "east", "west"}
	out := map[string]any{
		"sku":       sku,
		"in_stock":  qty > 0,
		"quantity":  qty,
		"warehouse": warehouses[pick(uint64(len(warehouses)), "wh", key)],
		"synthetic": true,
	}
	text := fmt.Sprintf("%s: %d in stock at the %s warehouse (synthetic demo data)", sku, qty, out["warehouse"])
	if qty == 0 {
		text = fmt.Sprintf("%s: out of stock (synthetic demo data)", sku)
	}
	return mcp.NewToolResultStructured(out, text), nil
}

func calculateRisk(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	amount, err := req.RequireFloat("amount")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	if amount < 0 {
		return mcp.NewToolResultError("amount must be 0 or more"), nil
	}
	country := strings.ToUpper(req.GetString("country", "US"))
	// Up to 70 points for the amount (1 per 1,000), up to 30 derived from
	// the country code: made-up, but stable and monotonic in the amount.
	score := min(70, int(amount/1000)) + int(pick(31, "country", country))
	level := "low"
	switch {
	case score >= 60:
		level = "high"
	case score >= 30:
		level = "medium"
	}
	out := map[string]any{
		"amount":    amount,
		"country":   country,
		"score":     score,
		"level":     level,
		"synthetic": true,
	}
	text := fmt.Sprintf("Risk for %s in %s: %d/100 (%s; synthetic demo scoring)",
		strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", amount), "0"), "."), country, score, level)
	return mcp.NewToolResultStructured(out, text), nil
}

func deleteRecords(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	table, err := req.RequireString("table")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	where, err := req.RequireString("where")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	n := 1 + int(pick(999, "rows", table, where))
	out := map[string]any{
		"table":        table,
		"where":        where,
		"would_delete": n,
		"deleted":      0,
		"synthetic":    true,
	}
	text := fmt.Sprintf("Would have deleted %d rows from %s where %s. This is a synthetic demo server: nothing was deleted.", n, table, where)
	return mcp.NewToolResultStructured(out, text), nil
}

// recordAction appends a capability_use receipt to the trace the proxy
// names in ASSAY_TRACE_ID, the way an instrumented server joins the
// proxy's trace and pack.
func (e *env) recordAction(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	action, err := req.RequireString("action")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	trace := os.Getenv(store.EnvTrace)
	if trace == "" {
		return mcp.NewToolResultError(store.EnvTrace + " is not set, so there is no trace to record the action in (run this server behind assay mcp-proxy)"), nil
	}
	if err := store.ValidTraceID(trace); err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("%s is not a usable trace id: %v", store.EnvTrace, err)), nil
	}
	st, err := store.OpenDefault()
	if err != nil {
		e.log.Error().Err(err).Msg("record_action: cannot open the assay store")
		return mcp.NewToolResultError("cannot open the assay store: " + err.Error()), nil
	}
	data := &canon.Object{}
	data.Set("action", action)
	data.Set("tool", "record_action")
	data.Set("integration_source", IntegrationSource)
	r, err := st.Emit(trace, "capability_use", data, store.EmitOptions{})
	if err != nil {
		// Evidence is never dropped in silence: the caller is told.
		e.log.Error().Err(err).Str("trace_id", trace).Msg("record_action: cannot write the receipt")
		return mcp.NewToolResultError("the action was not recorded: " + err.Error()), nil
	}
	id := r.String("receipt_id")
	out := map[string]any{"receipt_id": id, "trace_id": trace, "type": "capability_use", "action": action}
	return mcp.NewToolResultStructured(out, fmt.Sprintf("Recorded %q as receipt %s in trace %s", action, id, trace)), nil
}
