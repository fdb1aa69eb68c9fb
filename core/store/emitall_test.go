package store

import (
	"strconv"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

// TestEmitAllInOrder: a batch lands in order with consecutive seq and
// store seq; an item of a type no pack may carry fails alone.
func TestEmitAllInOrder(t *testing.T) {
	t.Parallel()
	s := Open(t.TempDir())
	tr := NewTraceID()
	var items []EmitItem
	for i := 0; i < 300; i++ {
		d := &canon.Object{}
		d.Set("n", i)
		typ := "model_call"
		if i == 150 {
			typ = "not_a_receipt_type"
		}
		items = append(items, EmitItem{Type: typ, Data: d})
	}
	rs, errs := s.EmitAll(tr, items)
	for i := range items {
		if (errs[i] != nil) != (i == 150) || (rs[i] == nil) != (i == 150) {
			t.Fatalf("item %d: receipt %v, error %v", i, rs[i] != nil, errs[i])
		}
	}
	got, probs, err := s.Read(tr)
	if err != nil || len(probs) != 0 || len(got) != 299 {
		t.Fatalf("%d receipts, %v, %v", len(got), probs, err)
	}
	for i, r := range got {
		want := i
		if i >= 150 {
			want = i + 1
		}
		n, _ := r.Get("n")
		seq, _ := r.Get("seq")
		sseq, _ := r.Get("_store_seq")
		if n != canon.Number(strconv.Itoa(want)) || seq != canon.Number(strconv.Itoa(i)) || sseq != canon.Number(strconv.Itoa(i)) {
			t.Fatalf("line %d: n %v seq %v store seq %v", i, n, seq, sseq)
		}
	}
}
