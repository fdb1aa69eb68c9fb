package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/store"
)

// fastHome is a store directory on tmpfs when the machine has one: every
// receipt append fsyncs (DECISIONS 12), and this test counts receipts, it
// does not time disks.
func fastHome(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "assay-capture-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// loadRequest is request i of the mix: the four APIs in turn, every other
// one streaming.
func loadRequest(base string, i int) (*http.Request, string) {
	stream := i%2 == 1
	var path, body string
	model := fmt.Sprintf("load-%d", i)
	switch i % 4 {
	case 0, 1:
		path = "/openai/chat/completions"
		body = fmt.Sprintf(`{"model":%q,"stream":%v,"stream_options":{"include_usage":%v},"messages":[{"role":"user","content":"load %d"}]}`, model, stream, stream, i)
	case 2:
		path = "/anthropic/v1/messages"
		body = fmt.Sprintf(`{"model":%q,"max_tokens":64,"stream":%v,"messages":[{"role":"user","content":"load %d"}]}`, model, stream, i)
	case 3:
		path = fmt.Sprintf("/gemini/v1beta/models/%s:streamGenerateContent?alt=sse", model)
		body = fmt.Sprintf(`{"contents":[{"role":"user","parts":[{"text":"load %d"}]}]}`, i)
	}
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-load-SECRET-0000000000")
	return req, fmt.Sprintf("load %d", i)
}

// TestLoad sends 10,000 requests at 200 concurrent (half streaming) through
// the gateway to the synthetic server: every answered request has exactly
// one receipt, nothing is lost, and no goroutine outlives Close.
func TestLoad(t *testing.T) {
	t.Parallel()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const total, workers = 10000, 200
	mock, err := mockllm.Start("")
	if err != nil {
		t.Fatal(err)
	}
	st := store.Open(fastHome(t))
	gw, err := gateway.Start(context.Background(), gateway.Options{Store: st, TraceID: trace,
		Upstreams: map[string]string{"openai": mock.URL() + "/v1", "anthropic": mock.URL(), "gemini": mock.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var answered, failed atomic.Int64
	var firstErr atomic.Value
	next := atomic.Int64{}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				req, prompt := loadRequest(gw.URL(), i)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				// Every answer ends with the prompt's last word (streams too).
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), strings.Fields(prompt)[1]) {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("request %d: status %d err %v body %.200s", i, resp.StatusCode, err, b))
					continue
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
	mock.Close()
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed; first: %v", failed.Load(), firstErr.Load())
	}
	s := gw.Stats()
	t.Logf("%d requests in %v (%.0f req/s); stats %+v", total, elapsed, float64(total)/elapsed.Seconds(), s)
	if answered.Load() != total || s.ModelCalls != total || s.ReceiptsWritten != total || s.ReceiptsLost != 0 || s.ReceiptsPending != 0 {
		t.Fatalf("answered %d, stats %+v", answered.Load(), s)
	}
	rs, probs, err := st.Read(trace)
	if err != nil || len(probs) != 0 || len(rs) != total {
		t.Fatalf("store holds %d receipts (%v, %v), want %d", len(rs), err, probs, total)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		m := r.String("model_id")
		if seen[m] {
			t.Fatalf("two receipts for %s", m)
		}
		seen[m] = true
		if e, _ := r.Get("error"); e != nil {
			t.Fatalf("%s: error %v", m, e)
		}
	}
}
