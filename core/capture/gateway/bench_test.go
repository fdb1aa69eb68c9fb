package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/store"
)

// pct returns the p-th percentile of ds (sorted in place).
func pct(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// BenchmarkGatewayAddedLatency measures what the gateway adds to a call,
// against calling the synthetic server directly, one call at a time
// (direct and gateway calls interleaved so both see the same machine):
// non-streaming total latency, and time to the first streamed byte. The
// store is on the real disk (fsync per receipt) or on tmpfs; receipts are
// written off the response path in both cases.
//
//	go test ./core/capture/gateway -run '^$' -bench GatewayAddedLatency -benchtime 2000x
func BenchmarkGatewayAddedLatency(b *testing.B) {
	for _, where := range []string{"disk", "tmpfs"} {
		b.Run("store="+where, func(b *testing.B) {
			home := b.TempDir()
			if where == "tmpfs" {
				home = fastHome(b)
			}
			mock, err := mockllm.Start("")
			if err != nil {
				b.Fatal(err)
			}
			defer mock.Close()
			gw, err := gateway.Start(context.Background(), gateway.Options{Store: store.Open(home), TraceID: trace,
				Upstreams: map[string]string{"openai": mock.URL() + "/v1"}})
			if err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			call := func(url string, stream bool) (total, ttfb time.Duration) {
				body := fmt.Sprintf(`{"model":"bench","stream":%v,"messages":[{"role":"user","content":"how fast is the gateway"}]}`, stream)
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer k")
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				br := bufio.NewReader(resp.Body)
				if _, err := br.ReadByte(); err != nil {
					b.Fatal(err)
				}
				ttfb = time.Since(start)
				io.Copy(io.Discard, br)
				resp.Body.Close()
				return time.Since(start), ttfb
			}
			direct := mock.URL() + "/v1/chat/completions"
			via := gw.URL() + "/openai/chat/completions"
			for i := 0; i < 50; i++ { // warm the connection pools
				call(direct, false)
				call(via, false)
			}
			var dTot, gTot, dFirst, gFirst []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, _ := call(direct, false)
				g, _ := call(via, false)
				_, df := call(direct, true)
				_, gf := call(via, true)
				dTot, gTot, dFirst, gFirst = append(dTot, d), append(gTot, g), append(dFirst, df), append(gFirst, gf)
			}
			b.StopTimer()
			if err := gw.Close(); err != nil {
				b.Fatal(err)
			}
			if s := gw.Stats(); s.ReceiptsWritten != int64(2*b.N+50) || s.ReceiptsLost != 0 {
				b.Fatalf("stats %+v", s)
			}
			d50, d99, g50, g99 := pct(dTot, .5), pct(dTot, .99), pct(gTot, .5), pct(gTot, .99)
			f50, f99, h50, h99 := pct(dFirst, .5), pct(dFirst, .99), pct(gFirst, .5), pct(gFirst, .99)
			b.ReportMetric(us(g50-d50), "added-p50-µs")
			b.ReportMetric(us(g99-d99), "added-p99-µs")
			b.ReportMetric(us(h50-f50), "ttfb-added-p50-µs")
			b.ReportMetric(us(h99-f99), "ttfb-added-p99-µs")
			b.Logf("store on %s, n=%d: non-streaming direct p50 %v p99 %v, via gateway p50 %v p99 %v; first streamed byte direct p50 %v p99 %v, via gateway p50 %v p99 %v",
				where, b.N, d50, d99, g50, g99, f50, f99, h50, h99)
		})
	}
}
