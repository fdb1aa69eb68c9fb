package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/assay-dev/assay/core/receipt"
)

// EachFile hands over the receipts one at a time in file order, names the
// lines that are not receipts, and stops at the first error of its callback.
func TestEachFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "t.jsonl")
	data := "{\"receipt_id\":\"a\"}\n\n{\"cut short\n[1]\n{\"receipt_id\":\"b\"}\n{\"receipt_id\":\"c\"}\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var ids []string
	probs, err := EachFile(p, func(r *receipt.Receipt) error {
		ids = append(ids, r.String("receipt_id"))
		return nil
	})
	if err != nil || !reflect.DeepEqual(ids, []string{"a", "b", "c"}) || len(probs) != 2 || probs[0].Line != 3 || probs[1].Line != 4 {
		t.Fatalf("ids %v, problems %v, err %v", ids, probs, err)
	}
	stop := errors.New("stop")
	ids = nil
	_, err = EachFile(p, func(r *receipt.Receipt) error {
		ids = append(ids, r.String("receipt_id"))
		if len(ids) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(ids) != 2 {
		t.Fatalf("ids %v, err %v", ids, err)
	}
	recs, probs2, err := ReadFile(p)
	if err != nil || len(recs) != 3 || !reflect.DeepEqual(probs2, probs) {
		t.Fatalf("ReadFile: %d receipts, %v, %v", len(recs), probs2, err)
	}
}
