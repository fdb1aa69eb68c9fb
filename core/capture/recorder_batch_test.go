package capture

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/capture/provider"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// gatedSink holds the writer's first append until released, so the calls
// recorded meanwhile queue up, and counts the appends.
type gatedSink struct {
	*store.Store
	gate    chan struct{}
	once    sync.Once
	appends atomic.Int32
}

func (g *gatedSink) EmitAll(trace string, items []store.EmitItem) ([]*receipt.Receipt, []error) {
	g.once.Do(func() { <-g.gate })
	g.appends.Add(1)
	return g.Store.EmitAll(trace, items)
}

// TestAsyncWriterBatches: calls that queue while the writer is busy go to
// the store together (one flush and fsync for many), all of them, in the
// order they were recorded.
func TestAsyncWriterBatches(t *testing.T) {
	t.Parallel()
	st := store.Open(t.TempDir())
	sink := &gatedSink{Store: st, gate: make(chan struct{})}
	lg := zerolog.Nop()
	trace := store.NewTraceID()
	r, err := NewRecorder(RecorderOptions{Store: sink, TraceID: trace, Async: true, Logger: &lg})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for i := 0; i < n; i++ {
		r.Record(&Call{Req: provider.Request{Provider: "openai", Model: "m" + strconv.Itoa(i)}, Start: time.Now(), End: time.Now(), Status: 200})
	}
	close(sink.gate)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Written != n || s.Lost != 0 {
		t.Fatalf("stats %+v", s)
	}
	if a := sink.appends.Load(); a > n/100 {
		t.Fatalf("%d appends for %d receipts: not batched", a, n)
	}
	got, _, err := st.Read(trace)
	if err != nil || len(got) != n {
		t.Fatalf("%d receipts: %v", len(got), err)
	}
	for i, rc := range got {
		if rc.String("model_id") != "m"+strconv.Itoa(i) {
			t.Fatalf("receipt %d is of model %q: out of order", i, rc.String("model_id"))
		}
	}
}
