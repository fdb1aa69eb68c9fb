// Command gentrace writes a synthetic trace of model_call receipts shaped
// like the gateway's (about 600 bytes a line) into an assay store, for
// scripts/bench:
//
//	go run ./scripts/bench/gentrace -home DIR -n 1000000 -trace trace_bench_1m
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	home := flag.String("home", "", "store directory (ASSAY_HOME)")
	n := flag.Int("n", 10000, "number of receipts")
	trace := flag.String("trace", "trace_bench", "trace id")
	flag.Parse()
	if *home == "" {
		fmt.Fprintln(os.Stderr, "gentrace: give -home")
		os.Exit(3)
	}
	dir := filepath.Join(*home, "2026-01-15")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	path := filepath.Join(dir, *trace+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < *n; i++ {
		fmt.Fprintf(w, `{"receipt_id":"mcr_%016x","type":"model_call","timestamp":"2026-01-15T11:%02d:%02d.%06d+00:00","schema_version":"3.0","seq":%d,"provider":"openai","model_id":"gpt-4o-mini","input_tokens":%d,"output_tokens":%d,"total_tokens":%d,"latency_ms":%d,"finish_reason":"stop","error":null,"input_hash":"%064x","output_hash":"%064x","content_hash_alg":"sha256-jcs-v1","usage_source":"provider","endpoint":"/v1/chat/completions","callsite_id":"%012x","_trace_id":"%s","_stored_at":"2026-01-15T11:59:00.000000+00:00","_store_seq":%d}`+"\n",
			i, (i/60000)%60, (i/1000)%60, i%1000000, i, 812+i%100, 211+i%50, 1023+i%150, 930+i%400, i, i*7, i%97, *trace, i)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}
