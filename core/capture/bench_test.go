package capture_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/store"
)

// canned answers every request from memory, so the benchmark measures the
// middleware and not a network.
type canned struct{ body []byte }

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body)), Request: r}, nil
}

const cannedChat = `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Synthetic answer to: how much does the middleware cost"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}`

const chatReq = `{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"how much does the middleware cost"}]}`

// BenchmarkMiddlewareOverhead is the per-call cost of the Go SDK
// middleware: each iteration makes one call through a plain client and one
// through the capture client (both over an in-memory transport) and
// reports the difference. Modes: async (receipt written by a background
// writer), sync (the call returns once the receipt is fsynced), with the
// store on tmpfs or on the real disk.
//
//	go test ./core/capture -run '^$' -bench MiddlewareOverhead -benchtime 3000x
func BenchmarkMiddlewareOverhead(b *testing.B) {
	modes := []struct {
		name  string
		async bool
		tmpfs bool
	}{{"async-tmpfs", true, true}, {"async-disk", true, false}, {"sync-tmpfs", false, true}, {"sync-disk", false, false}}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			home := b.TempDir()
			if m.tmpfs {
				d, err := os.MkdirTemp("/dev/shm", "assay-bench-")
				if err != nil {
					b.Skip("no /dev/shm")
				}
				defer os.RemoveAll(d)
				home = d
			}
			base := canned{[]byte(cannedChat)}
			tr, err := capture.NewTransport(capture.Options{Store: store.Open(home), TraceID: trace, Base: base, Async: m.async})
			if err != nil {
				b.Fatal(err)
			}
			plain, wrapped := &http.Client{Transport: base}, tr.Client()
			call := func(c *http.Client) time.Duration {
				req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", strings.NewReader(chatReq))
				req.Header.Set("Authorization", "Bearer k")
				s := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return time.Since(s)
			}
			over := make([]time.Duration, 0, b.N)
			var sum time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := call(plain)
				w := call(wrapped)
				over = append(over, w-p)
				sum += w - p
			}
			b.StopTimer()
			if err := tr.Close(); err != nil {
				b.Fatal(err)
			}
			if s := tr.Stats(); s.Written != int64(b.N) {
				b.Fatalf("stats %+v", s)
			}
			sort.Slice(over, func(i, j int) bool { return over[i] < over[j] })
			b.ReportMetric(float64(sum.Nanoseconds())/float64(b.N)/1e3, "overhead-mean-µs")
			b.ReportMetric(float64(over[len(over)/2].Nanoseconds())/1e3, "overhead-p50-µs")
			b.ReportMetric(float64(over[len(over)*99/100].Nanoseconds())/1e3, "overhead-p99-µs")
		})
	}
}
