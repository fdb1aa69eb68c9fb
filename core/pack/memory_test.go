//go:build linux && !race

package pack

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/internal/childtest"
)

// memChildEnv names the trace a re-executed test binary packs (see
// TestMain), so its peak memory can be measured alone.
const memChildEnv = "ASSAY_PACK_MEMORY_CHILD"

func TestMain(m *testing.M) {
	childtest.Main(memChildEnv, func(trace string) int {
		out := filepath.Join(filepath.Dir(trace), "pack")
		res, probs, err := BuildTrace(Options{RunID: "t", Signer: zeroSigner("s"), OutDir: out}, trace)
		if err != nil || len(probs) != 0 {
			fmt.Fprintln(os.Stderr, "child:", err, probs)
			return 1
		}
		fmt.Println(res.NReceipts, res.ReceiptIntegrity)
		return 0
	})
	os.Exit(m.Run())
}

// Memory bounded by construction: 300,000 receipts are packed by a child
// process under GOMEMLIMIT=48MiB, and its peak resident memory (VmHWM,
// the child's own) stays under 100 MB. Holding the receipts, as Build does, took
// 384 MB for this trace. (An address-space limit cannot be used: the Go
// runtime reserves more address space than that at start. Nor is it built
// under the race detector, whose shadow memory would be measured too.)
func TestBuildTraceMemoryBounded(t *testing.T) {
	t.Parallel()
	const n = 300_000
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.jsonl")
	f, err := os.Create(trace)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `{"receipt_id":"r_%012x","type":"model_call","timestamp":"2026-01-15T11:59:00.%06d+00:00","seq":%d,"model_id":"m","_trace_id":"t"}`+"\n", i, i%1000000, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, peakMB := childtest.Run(t, memChildEnv, trace, "", "GOMEMLIMIT=48MiB", "GOGC=100")
	if got := string(out); got != fmt.Sprintf("%d PASS\n", n) {
		t.Fatalf("child built %q", got)
	}
	t.Logf("peak RSS packing %d receipts: %.1f MB", n, peakMB)
	if peakMB > 100 {
		t.Fatalf("peak RSS %.1f MB packing %d receipts; the streamed build holds only sort keys (bound 100 MB)", peakMB, n)
	}
}
