package pack

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/store"
)

// FromTrace packs a stored trace as Build packs its receipts (same bytes),
// with the run id taken from the trace; a trace with no file yet is an
// empty pack, or ErrNoReceipts (nothing written) when receipts are required.
func TestFromTrace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	st := store.Open(t.TempDir())
	const id = "trace_from_trace"
	for i := 0; i < 3; i++ {
		d := &canon.Object{}
		d.Set("model_id", "gpt-4o")
		if _, err := st.Emit(id, "model_call", d, store.EmitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	recs, _, err := st.Read(id)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opt := Options{Signer: zeroSigner("s"), Now: now, Deterministic: true}
	want := opt
	want.RunID, want.Receipts, want.OutDir = id, recs, filepath.Join(dir, "build")
	wres, err := Build(want)
	if err != nil {
		t.Fatal(err)
	}
	opt.OutDir = filepath.Join(dir, "trace")
	got, probs, err := FromTrace(st, id, opt)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	if got.RunID != id || got.NReceipts != 3 || got.PackRootSHA256 != wres.PackRootSHA256 {
		t.Fatalf("got %+v, want %+v", got, wres)
	}
	samePack(t, wres.Dir, got.Dir)

	for _, tc := range []struct {
		name    string
		require bool
	}{{"empty pack", false}, {"no receipts", true}} {
		t.Run(tc.name, func(t *testing.T) {
			o := opt
			o.OutDir, o.RequireReceipts = filepath.Join(t.TempDir(), "pack"), tc.require
			res, _, err := FromTrace(st, "trace_not_yet_written", o)
			switch {
			case tc.require && !errors.Is(err, ErrNoReceipts):
				t.Fatalf("err %v, want ErrNoReceipts", err)
			case tc.require && res != nil:
				t.Fatalf("a pack was built: %+v", res)
			case !tc.require && (err != nil || res.NReceipts != 0 || res.RunID != "trace_not_yet_written"):
				t.Fatalf("res %+v, err %v", res, err)
			}
		})
	}
}
