package incident

import (
	"fmt"
	"path/filepath"
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
	recs := make([]*receipt.Receipt, 0, n)
	for i := 0; i < n; i++ {
		seq := int64(i)
		at := start.Add(time.Duration(i) * time.Millisecond)
		m := receipt.MCPToolCall{Seq: &seq, InvocationID: fmt.Sprintf("inv_%016x", i), SessionID: "mcp_0123456789abcdef", TraceID: "bench",
			ServerID: "bench", Transport: "stdio", ToolName: tools[i%len(tools)], RequestID: int64(i), RequestAt: at, ResponseAt: at,
			ArgumentsHash: "sha256:00", ArgumentsContent: map[string]any{"n": int64(i), "action": "read"}, Outcome: "forwarded", Source: "assay.mcp_proxy"}
		d := m.Data()
		d.Set("receipt_id", fmt.Sprintf("mtc_%016x", i))
		d.Set("type", receipt.TypeMCPToolCall)
		d.Set("timestamp", receipt.Timestamp(at))
		d.Set("schema_version", "3.0")
		recs = append(recs, d)
	}
	dir := filepath.Join(b.TempDir(), "pack")
	if _, err := pack.Build(pack.Options{RunID: "bench", Receipts: recs, Signer: demo.EphemeralSigner("bench"), OutDir: dir}); err != nil {
		b.Fatal(err)
	}
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
