package incident

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify"
)

// Receipts swapped between the verification and replay's read are refused
// as tampered by the pinned read (pack.PinnedReceipts), the check proofs
// make too; none of the swapped calls is replayed.
func TestReplayRefusesReceiptsSwappedAfterVerification(t *testing.T) {
	t.Parallel()
	dir := syntheticPack(t, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), []synthCall{{Tool: "get_weather"}, {Tool: "delete_records", At: time.Second}})
	pk, err := pack.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer pk.Close()
	if vr, err := verify.VerifyPack(pk, verify.Options{}); err != nil || vr.Integrity != verify.VerdictPass {
		t.Fatalf("verify: %v %+v", err, vr)
	}
	if recs, err := readVerified(pk); err != nil || len(recs.calls) != 2 {
		t.Fatalf("honest read: %v", err)
	}
	path := filepath.Join(dir, pack.FileReceipts)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	swapped := strings.Replace(string(b), "delete_records", "delete_recordz", 1)
	if swapped == string(b) {
		t.Fatal("nothing swapped")
	}
	if err := os.WriteFile(path+".new", []byte(swapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	recs, err := readVerified(pk)
	if recs != nil || exit.Code(err) != exit.Tampered || !strings.Contains(err.Error(), pack.FileReceipts+" changed after the pack was verified") {
		t.Fatalf("got %v (exit %d)", err, exit.Code(err))
	}
}
