package incident

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// BenchmarkReplay replays a pack of 20000 mcp_tool_call receipts (built by
// pack.Build from receipts shaped as the proxy writes them) against a
// policy with globs, a per-tool budget and argument patterns. Verification
// is included: it is part of every replay.
func BenchmarkReplay(b *testing.B) {
	const n = 20000
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	tools := []string{"get_weather", "check_inventory", "calculate_risk", "record_action", "delete_records"}
	calls := make([]synthCall, n)
	for i := range calls {
		calls[i] = synthCall{Tool: tools[i%len(tools)], At: time.Duration(i) * time.Millisecond}
	}
	dir := syntheticPack(b, start, calls)
	p, err := mcppolicy.Parse([]byte("tools:\n  deny: [\"delete_*\"]\n  constraints:\n    calculate_risk:\n      max_calls: 100\n    record_action:\n      deny_patterns: [\"delete\", \"drop\\\\s+table\"]\nbudget:\n  max_tool_calls: 15000\n"), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Replay(dir, p, Options{})
		if err != nil || r.Summary.Calls != n {
			b.Fatalf("%v %+v", err, r)
		}
	}
	b.ReportMetric(float64(n), "calls/op")
}

// synthCall is one proxy-shaped call At after the session's start.
type synthCall struct {
	Tool string
	At   time.Duration
	// Took is how long the call ran: its receipt's timestamp (the
	// response time, which orders the pack) is At+Took.
	Took time.Duration
}

// syntheticPack builds, with pack.Build, a pack of one session: its opening
// session_metadata receipt (started_at = start) and one mcp_tool_call
// receipt per call, shaped by receipt.MCPToolCall as the proxy writes them.
func syntheticPack(tb testing.TB, start time.Time, calls []synthCall) string {
	tb.Helper()
	const sid = "mcp_0123456789abcdef"
	meta := &receipt.Receipt{}
	for _, kv := range [][2]any{{"receipt_id", "smd_0000000000000000"}, {"type", "session_metadata"}, {"timestamp", receipt.Timestamp(start)},
		{"schema_version", "3.0"}, {"session_id", sid}, {"session_state", "open"}, {"started_at", receipt.Timestamp(start)}} {
		meta.Set(kv[0].(string), kv[1])
	}
	recs := []*receipt.Receipt{meta}
	// seq is the proxy's recording counter: calls are numbered in the
	// order they resolved (response time), which orders the pack.
	byResponse := make([]int, len(calls))
	for i := range byResponse {
		byResponse[i] = i
	}
	sort.SliceStable(byResponse, func(a, b int) bool {
		return calls[byResponse[a]].At+calls[byResponse[a]].Took < calls[byResponse[b]].At+calls[byResponse[b]].Took
	})
	seqOf := make([]int64, len(calls))
	for rank, i := range byResponse {
		seqOf[i] = int64(rank + 1)
	}
	for i, c := range calls {
		seq := seqOf[i]
		at := start.Add(c.At)
		m := receipt.MCPToolCall{Seq: &seq, InvocationID: fmt.Sprintf("inv_%016x", i), SessionID: sid, TraceID: "bench",
			ServerID: "bench", Transport: "stdio", ToolName: c.Tool, RequestID: int64(i), RequestAt: at, ResponseAt: at.Add(c.Took),
			ArgumentsHash: "sha256:00", ArgumentsContent: map[string]any{"n": int64(i), "action": "read"}, Outcome: "forwarded", Source: "assay.mcp_proxy"}
		d := m.Data()
		d.Set("receipt_id", fmt.Sprintf("mtc_%016x", i))
		d.Set("type", receipt.TypeMCPToolCall)
		d.Set("timestamp", receipt.Timestamp(at.Add(c.Took)))
		d.Set("schema_version", "3.0")
		recs = append(recs, d)
	}
	dir := filepath.Join(tb.TempDir(), "pack")
	if _, err := pack.Build(pack.Options{RunID: "bench", Receipts: recs, Signer: demo.EphemeralSigner("bench"), OutDir: dir}); err != nil {
		tb.Fatal(err)
	}
	return dir
}
