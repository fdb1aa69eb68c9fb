package main

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkStdioVerifyPack measures the stdio round trip of verify-pack on a
// 100-receipt pack against the built binary, with the per-call receipt (the
// default: one fsynced append per call) and without, and reports the
// tools/list size in bytes.
//
//	go test -run '^$' -bench StdioVerifyPack ./cmd/assay-mcp
func BenchmarkStdioVerifyPack(b *testing.B) {
	mcpBin, _ := binaries(b)
	home := b.TempDir()
	root, _ := filepath.EvalSymlinks(b.TempDir())

	// A 100-receipt pack: 100 emitted receipts, recording off.
	mk := startStdio(b, mcpBin, home, root, "--no-record", "--log-level", "warn")
	mk.initialize()
	for i := 0; i < 100; i++ {
		if r := mk.call("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"i": i}}); r.IsError {
			b.Fatal(r.Content)
		}
	}
	if r := mk.call("bundle", map[string]any{"out": "p100"}); r.IsError || r.StructuredContent["pack"].(map[string]any)["n_receipts"] != float64(100) {
		b.Fatalf("bundle: %+v", r)
	}

	for _, mode := range []struct {
		name string
		args []string
	}{{"record", nil}, {"no-record", []string{"--no-record"}}} {
		b.Run(mode.name, func(b *testing.B) { benchVerify(b, mcpBin, home, root, mode.args) })
	}
}

func benchVerify(b *testing.B, mcpBin, home, root string, extra []string) {
	s := startStdio(b, mcpBin, home, root, append([]string{"--log-level", "warn"}, extra...)...)
	s.initialize()
	list := s.request("tools/list", map[string]any{})
	var l struct {
		Tools []json.RawMessage `json:"tools"`
	}
	_ = json.Unmarshal(list, &l)
	toolsBytes, _ := json.Marshal(l.Tools)

	args := map[string]any{"path": "p100"}
	s.call("verify-pack", args) // warm up
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r := s.call("verify-pack", args)
		times = append(times, time.Since(t0))
		if r.IsError || r.StructuredContent["verdict"] != "PASS" {
			b.Fatalf("verify: %+v", r)
		}
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "ms-p95")
	b.ReportMetric(float64(len(toolsBytes)), "tools-list-bytes")
	b.ReportMetric(float64(len(l.Tools)), "tools")
}
