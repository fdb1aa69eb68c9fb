// Command gwload sends OpenAI chat completions (half of them streamed) to a
// base URL with fixed concurrency and prints the latency and time to first
// byte percentiles as JSON, for scripts/bench's gateway figures: run it once
// against the synthetic LLM server directly and once through the gateway.
//
//	go run ./scripts/bench/gwload -base http://127.0.0.1:PORT/v1 -n 10000 -c 200
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"flag"
)

type result struct {
	Requests   int     `json:"requests"`
	Errors     int64   `json:"errors"`
	Streamed   int     `json:"streamed"`
	Seconds    float64 `json:"seconds"`
	P50ms      float64 `json:"latency_p50_ms"`
	P99ms      float64 `json:"latency_p99_ms"`
	TTFBP50ms  float64 `json:"stream_ttfb_p50_ms"`
	TTFBP99ms  float64 `json:"stream_ttfb_p99_ms"`
	RequestsPS float64 `json:"requests_per_second"`
}

func main() {
	base := flag.String("base", "", "OpenAI base URL (…/v1 or the gateway's …/openai)")
	n := flag.Int("n", 10000, "requests")
	c := flag.Int("c", 200, "concurrent requests")
	flag.Parse()
	if *base == "" {
		fmt.Fprintln(os.Stderr, "gwload: give -base")
		os.Exit(3)
	}
	tr := &http.Transport{MaxIdleConns: *c * 2, MaxIdleConnsPerHost: *c * 2, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	lat := make([]time.Duration, *n)
	ttfb := make([]time.Duration, *n)
	var errs atomic.Int64
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				stream := i%2 == 1
				body, _ := json.Marshal(map[string]any{
					"model": "gpt-4o-mini", "stream": stream,
					"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("request %d: say something short", i)}},
				})
				req, _ := http.NewRequest("POST", *base+"/chat/completions", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer mock-key")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				var one [1]byte
				if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
					errs.Add(1)
				}
				ttfb[i] = time.Since(t0)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var st []time.Duration
	for i := 1; i < *n; i += 2 {
		st = append(st, ttfb[i])
	}
	r := result{Requests: *n, Errors: errs.Load(), Streamed: len(st), Seconds: el.Seconds(),
		P50ms: pct(lat, 50), P99ms: pct(lat, 99), TTFBP50ms: pct(st, 50), TTFBP99ms: pct(st, 99),
		RequestsPS: float64(*n) / el.Seconds()}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func pct(d []time.Duration, p int) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(s[i].Microseconds()) / 1000
}
