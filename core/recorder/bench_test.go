package recorder_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/store"
)

// The cost the recorder adds to an emit: BenchmarkEmitStore is an emit
// appended straight to the store (stamp, append, fsync), BenchmarkEmitRecorder
// the same emit sent over the socket, stored (same fsync) and sealed before
// the answer. The difference is the overhead per receipt:
//
//	go test -run '^$' -bench 'Emit' -benchtime 2000x ./core/recorder

func benchStore(b *testing.B) (*store.Store, *keys.Signer, string) {
	home := b.TempDir()
	sg, _, err := keys.Open(home).ActiveSigner(true)
	if err != nil {
		b.Fatal(err)
	}
	return store.Open(home), sg, store.NewTraceID()
}

func BenchmarkEmitStore(b *testing.B) {
	st, _, trace := benchStore(b)
	data := obj("verdict", "allow", "tool", "web_search")
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := st.Emit(trace, "guardian_verdict", data, store.EmitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// cpuTime is the process's user+system CPU time: on a loaded machine wall
// time mostly measures the run queue, CPU time the work done.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

func BenchmarkEmitRecorder(b *testing.B) {
	st, sg, trace := benchStore(b)
	rec, err := recorder.Start(recorder.Options{Store: st, TraceID: trace, Signer: sg, Listen: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	c, err := client.Dial(rec.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	data := obj("verdict", "allow", "tool", "web_search")
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := c.Emit(trace, "guardian_verdict", data, store.EmitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkRecorderMemory1M has the recorder follow a trace file that grows
// by 1M reference-style receipts and reports the heap it holds once they
// are all sealed (its state is O(log n): a Merkle stack, an offset and two
// counters; the sealed lines live on disk).
//
//	go test -run '^$' -bench RecorderMemory1M -benchtime 1x ./core/recorder
func BenchmarkRecorderMemory1M(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		st, sg, trace := benchStore(b)
		rec, err := recorder.Start(recorder.Options{Store: st, TraceID: trace, Signer: sg})
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.OpenFile(rec.TracePath(), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		peak := uint64(0)
		const chunk = 100_000
		for j := 0; j < n; j++ {
			fmt.Fprintf(w, `{"receipt_id":"r_%012d","type":"guardian_verdict","timestamp":"2026-12-07T00:00:00.000000+00:00","schema_version":"3.0","seq":%d,"verdict":"allow","_trace_id":"%s","_stored_at":"2099-01-01T00:00:00.000000+00:00","_store_seq":%d}`+"\n", j, j, trace, j)
			if (j+1)%chunk == 0 {
				w.Flush()
				rec.Sync()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
		f.Close()
		if got := rec.Sealed(); got != n {
			b.Fatalf("sealed %d of %d", got, n)
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB-after-1M")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<10), "heap-KiB-growth")
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
