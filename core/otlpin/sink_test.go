package otlpin

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// chatRequest is an OTLP/protobuf request of chat spans with span ids
// from..to-1 in one OTel trace.
func chatRequest(t *testing.T, from, to int) []byte {
	t.Helper()
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := from; i < to; i++ {
		sp := ss.Spans().AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		tid[0] = 0x42
		binary.BigEndian.PutUint64(sid[:], uint64(i)+1)
		sp.SetTraceID(tid)
		sp.SetSpanID(sid)
		sp.SetStartTimestamp(1765015200000000000)
		sp.SetEndTimestamp(1765015200250000000)
		if err := sp.Attributes().FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}); err != nil {
			t.Fatal(err)
		}
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestConcurrentDeliveries: overlapping requests delivered several times
// at once (an exporter retrying, a Collector fanning out with several
// consumers) land each receipt exactly once, and every 200 goes out only
// once the receipts of its request are in the store.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	srv, st := startReceiver(t, "trace_concurrent_1")
	ranges := [][2]int{{0, 50}, {25, 75}, {60, 80}}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for copyN := 0; copyN < 4; copyN++ {
		for _, r := range ranges {
			body := chatRequest(t, r[0], r[1])
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/v1/traces", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-protobuf")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
					return
				}
				// Answered 200: this request's receipts are stored.
				rs, _, err := st.Read("trace_concurrent_1")
				if err != nil {
					errs <- err.Error()
					return
				}
				have := map[string]bool{}
				for _, x := range rs {
					have[x.String("otel_span_id")] = true
				}
				for i := r[0]; i < r[1]; i++ {
					var sid pcommon.SpanID
					binary.BigEndian.PutUint64(sid[:], uint64(i)+1)
					if !have[sid.String()] {
						errs <- "200 before span " + sid.String() + " was stored"
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	rs := readTrace(t, st, "trace_concurrent_1")
	ids := map[string]bool{}
	for _, r := range rs {
		ids[r.String("receipt_id")] = true
	}
	if len(rs) != 80 || len(ids) != 80 {
		t.Fatalf("%d receipts, %d distinct; want 80 of each", len(rs), len(ids))
	}
	if s := srv.Stats(); s.Receipts != 80 || s.Duplicates != 4*(50+50+20)-80 {
		t.Fatalf("stats %+v", s)
	}
}
