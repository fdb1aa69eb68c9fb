package pack

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchTrace writes (once, cached under the temp dir) a trace of n
// model_call receipts shaped like the gateway's, about 680 bytes a line.
func benchTrace(b *testing.B, n int) string {
	p := filepath.Join(os.TempDir(), fmt.Sprintf("assay-bench-trace-%d.jsonl", n))
	if _, err := os.Stat(p); err == nil {
		return p
	}
	f, err := os.Create(p + ".tmp")
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `{"receipt_id":"mcr_%016x","type":"model_call","timestamp":"2026-01-15T11:%02d:%02d.%06d+00:00","schema_version":"3.0","seq":%d,"provider":"openai","model_id":"gpt-4o-mini","input_tokens":%d,"output_tokens":%d,"total_tokens":%d,"latency_ms":%d,"finish_reason":"stop","error":null,"input_hash":"%064x","output_hash":"%064x","content_hash_alg":"sha256-jcs-v1","usage_source":"provider","endpoint":"/v1/chat/completions","callsite_id":"%012x","_trace_id":"bench-run","_stored_at":"2026-01-15T11:59:00.000000+00:00","_store_seq":%d}`+"\n",
			i, (i/60000)%60, (i/1000)%60, i%1000000, i, 812+i%100, 211+i%50, 1023+i%150, 930+i%400, i, i*7, i%97, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := os.Rename(p+".tmp", p); err != nil {
		b.Fatal(err)
	}
	return p
}

func benchBuildTrace(b *testing.B, n int) {
	trace := benchTrace(b, n)
	st, _ := os.Stat(trace)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "pack")
		if _, _, err := BuildTrace(Options{RunID: "bench-run", Signer: zeroSigner("s"), OutDir: out}, trace); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildTrace100k streams a 100000-receipt trace into a pack;
// BenchmarkSHA256Trace100k hashes the same file (the limit it is compared
// with in scripts/bench).
//
//	go test ./core/pack -run '^$' -bench Trace100k -benchtime 3x
func BenchmarkBuildTrace100k(b *testing.B) { benchBuildTrace(b, 100_000) }

func BenchmarkSHA256Trace100k(b *testing.B) {
	trace := benchTrace(b, 100_000)
	st, _ := os.Stat(trace)
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		f, _ := os.Open(trace)
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		h.Sum(nil)
	}
}
