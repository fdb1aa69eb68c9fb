package verify

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// benchPack builds (once, cached under the temp dir) a pack of n model_call
// receipts shaped like the gateway's.
func benchPack(b *testing.B, n int) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("assay-bench-pack-%d", n))
	if _, err := os.Stat(filepath.Join(dir, pack.FileManifest)); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	recs := make([]*receipt.Receipt, n)
	for i := range recs {
		recs[i] = rc("receipt_id", fmt.Sprintf("mcr_%016x", i), "type", "model_call",
			"timestamp", fmt.Sprintf("2026-01-15T11:%02d:%02d.%06d+00:00", (i/60000)%60, (i/1000)%60, i%1000000),
			"schema_version", "3.0", "seq", i, "provider", "openai", "model_id", "gpt-4o-mini",
			"input_tokens", 812+i%100, "output_tokens", 211+i%50, "total_tokens", 1023+i%150, "latency_ms", 930+i%400,
			"finish_reason", "stop", "error", nil, "input_hash", fmt.Sprintf("%064x", i), "output_hash", fmt.Sprintf("%064x", i*7),
			"content_hash_alg", "sha256-jcs-v1", "usage_source", "provider", "endpoint", "/v1/chat/completions",
			"callsite_id", fmt.Sprintf("%012x", i%97), "_trace_id", "bench-run", "_stored_at", "2026-01-15T11:59:00.000000+00:00", "_store_seq", i)
	}
	if _, err := pack.Build(pack.Options{RunID: "bench-run", Receipts: recs, Signer: testSigner, OutDir: dir, Now: fixtureNow}); err != nil {
		b.Fatal(err)
	}
	return dir
}

func benchVerify(b *testing.B, n int) {
	dir := benchPack(b, n)
	st, _ := os.Stat(filepath.Join(dir, pack.FileReceipts))
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Verify(dir, Options{Now: fixtureNow})
		if err != nil || r.ExitCode != 0 {
			b.Fatalf("%v %+v", err, r.Errors)
		}
	}
}

func benchSHA(b *testing.B, n int) {
	dir := benchPack(b, n)
	p := filepath.Join(dir, pack.FileReceipts)
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, _ := os.Open(p)
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		h.Sum(nil)
	}
}

// BenchmarkVerify10k and BenchmarkVerify1M report verify-pack throughput in
// MB/s of receipt_pack.jsonl; BenchmarkSHA256* hash the same file, for the
// "at least half of plain SHA-256" target.
func BenchmarkVerify10k(b *testing.B)     { benchVerify(b, 10_000) }
func BenchmarkSHA256File10k(b *testing.B) { benchSHA(b, 10_000) }
func BenchmarkVerify1M(b *testing.B)      { benchVerify(b, 1_000_000) }
func BenchmarkSHA256File1M(b *testing.B)  { benchSHA(b, 1_000_000) }
