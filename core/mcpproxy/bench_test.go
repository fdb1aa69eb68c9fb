package mcpproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/store"
)

// BenchmarkAddedLatency prints the latency the proxy adds to a tools/call
// over stdio: the same real server (the fixture, a separate process),
// called directly and through the proxy (with a receipt per call written to
// a store on disk), b.N sequential calls each. Metrics: median and p99 of
// each path and the difference of the medians (target: added < 1 ms).
//
//	go test ./core/mcpproxy -run '^$' -bench AddedLatency -benchtime 2000x
func BenchmarkAddedLatency(b *testing.B) {
	env := append(os.Environ(), envFixture+"=1", store.EnvHome+"="+b.TempDir())
	direct, err := StartStdio(StdioOptions{Argv: fixtureArgv(), Env: env, Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Stop(time.Second)
	directRTT := roundTrips(b, func(m []byte) { _ = direct.Send(context.Background(), Message{Raw: m}) }, direct.Recv)

	proxied, err := StartStdio(StdioOptions{Argv: fixtureArgv(), Env: env, Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	st := store.Open(b.TempDir())
	sid := NewSessionID()
	cr, cw, _ := os.Pipe()
	pr, pw, _ := os.Pipe()
	done := make(chan *Session, 1)
	go func() {
		s, _ := Run(context.Background(), Options{Upstream: proxied, Client: cr, ClientOut: pw, Store: st, TraceID: NewTraceID(sid, time.Now()), SessionID: sid, ServerID: "bench"})
		pw.Close()
		done <- s
	}()
	r := NewReader(pr)
	proxiedRTT := roundTrips(b, func(m []byte) { _, _ = cw.Write(m) }, r.Next)
	cw.Close()
	s := <-done
	if s.Outcomes[OutcomeForwarded] != b.N+1 || s.EvidenceLost != 0 {
		b.Fatalf("proxied session recorded %v, lost %d", s.Outcomes, s.EvidenceLost)
	}
	dm, dp := percentile(directRTT, 50), percentile(directRTT, 99)
	pm, pp := percentile(proxiedRTT, 50), percentile(proxiedRTT, 99)
	b.ReportMetric(float64(dm.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(dp.Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64(pm.Microseconds()), "proxied-p50-µs")
	b.ReportMetric(float64(pp.Microseconds()), "proxied-p99-µs")
	b.ReportMetric(float64((pm - dm).Microseconds()), "added-p50-µs")
}

// roundTrips initialises a session and times b.N echo calls (plus one
// warm-up call, not timed).
func roundTrips(b *testing.B, send func([]byte), recv func() (Message, error)) []time.Duration {
	b.Helper()
	await := func(id int) {
		want := []byte(fmt.Sprintf(`"id":%d`, id))
		for {
			m, err := recv()
			if err != nil {
				b.Fatalf("recv: %v", err)
			}
			if bytes.Contains(m.Body, want) {
				return
			}
		}
	}
	send([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n"))
	await(0)
	send([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"))
	call := func(id int) {
		send([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"query":"status of order 1234","limit":5}}}`+"\n", id)))
		await(id)
	}
	call(1)
	out := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		call(i + 2)
		out[i] = time.Since(t0)
	}
	b.StopTimer()
	return out
}

func percentile(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}
