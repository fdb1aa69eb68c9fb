package store

import (
	"testing"

	"github.com/assay-dev/assay/core/receipt"
)

func TestObserveSeesDurableReceipts(t *testing.T) {
	t.Parallel()
	s := Open(t.TempDir())
	var got []string
	s.Observe(func(trace string, r *receipt.Receipt) { got = append(got, trace+"/"+r.String("receipt_id")) })
	if _, err := s.Emit("trace_obs_1", "model_call", nil, EmitOptions{ReceiptID: "r_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Emit("../bad", "model_call", nil, EmitOptions{ReceiptID: "r_2"}); err == nil {
		t.Fatal("bad trace accepted")
	}
	s.Observe(nil)
	if _, err := s.Emit("trace_obs_1", "model_call", nil, EmitOptions{ReceiptID: "r_3"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "trace_obs_1/r_1" {
		t.Fatalf("observed %v", got)
	}
}
