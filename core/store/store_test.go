package store

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

func TestEmitAndRead(t *testing.T) {
	t.Parallel()
	s := Open(t.TempDir())
	tr := NewTraceID()
	data := &canon.Object{}
	data.Set("model_id", "gpt-4o")
	data.Set("note", "line\u2028sep")
	r1, err := s.Emit(tr, "model_call", data, EmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Emit(tr, "guardian_verdict", nil, EmitOptions{ParentReceiptID: r1.String("receipt_id")}); err != nil {
		t.Fatal(err)
	}
	got, probs, err := s.Read(tr)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	if len(got) != 2 || got[0].String("_trace_id") != tr || got[1].String("parent_receipt_id") != r1.String("receipt_id") {
		t.Fatalf("unexpected receipts: %+v", got)
	}
	if got[0].String("note") != "line\u2028sep" {
		t.Fatal("string not round-tripped")
	}
	p, _, _ := s.Find(tr)
	raw, _ := os.ReadFile(p)
	if strings.Count(string(raw), "\n") != 2 || strings.Contains(string(raw), "\u2028") {
		t.Fatalf("store file: %q", raw)
	}
	seq0, _ := got[0].Get("_store_seq")
	seq1, _ := got[1].Get("_store_seq")
	if seq0 != canon.Number("0") || seq1 != canon.Number("1") {
		t.Fatalf("store seqs %v %v", seq0, seq1)
	}
}

func TestConcurrentAppendsStrictlyIncreasing(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	tr := NewTraceID()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := Open(home) // separate Store values lock through the file, as processes do
			for i := 0; i < 50; i++ {
				if _, err := s.Emit(tr, "model_call", nil, EmitOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, probs, err := Open(home).Read(tr)
	if err != nil || len(probs) > 0 || len(got) != 200 {
		t.Fatalf("%v %v %d", err, probs, len(got))
	}
	prev := int64(-1)
	for _, r := range got {
		v, _ := r.Get("_store_seq")
		n := mustInt(t, v)
		if n <= prev {
			t.Fatalf("_store_seq not strictly increasing: %d after %d", n, prev)
		}
		prev = n
	}
}

func mustInt(t *testing.T, v any) int64 {
	t.Helper()
	var n int64
	for _, c := range string(v.(canon.Number)) {
		n = n*10 + int64(c-'0')
	}
	return n
}

func TestBadTraceID(t *testing.T) {
	t.Parallel()
	s := Open(t.TempDir())
	for _, id := range []string{"../x", "", ".hidden", "a/b"} {
		if _, err := s.Emit(id, "model_call", nil, EmitOptions{}); err == nil {
			t.Errorf("trace id %q accepted", id)
		}
	}
	if _, err := s.Emit("t1", "policy_impact", nil, EmitOptions{}); err == nil {
		t.Error("disallowed type accepted")
	}
}

// Another writer (the reference's emit_receipt, say) appends between our
// appends with its own counter: our next stamp still sorts after its line.
func TestForeignWriterKeepsTraceIncreasing(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	s := Open(home)
	tr := NewTraceID()
	if _, err := s.Emit(tr, "model_call", nil, EmitOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _, _ := s.Find(tr)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0o644)
	f.WriteString(`{"receipt_id": "r_py", "type": "model_call", "timestamp": "2026-01-15T11:59:00+00:00", "_trace_id": "` + tr + `", "_store_seq": 41}` + "\n")
	f.Close()
	r, err := s.Emit(tr, "model_call", nil, EmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Get("_store_seq"); mustInt(t, canon.Number(strings.TrimSpace(fmtAny(v)))) != 42 {
		t.Fatalf("_store_seq %v, want 42", v)
	}
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case canon.Number:
		return string(x)
	}
	return ""
}

func BenchmarkEmit(b *testing.B) {
	s := Open(b.TempDir())
	tr := NewTraceID()
	d := &canon.Object{}
	d.Set("model_id", "gpt-4o")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Emit(tr, "model_call", d, EmitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmitParallel shows group commit: concurrent emitters share fsyncs.
func BenchmarkEmitParallel(b *testing.B) {
	s := Open(b.TempDir())
	tr := NewTraceID()
	b.SetParallelism(50)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Emit(tr, "model_call", nil, EmitOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
