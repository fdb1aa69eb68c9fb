package pack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

// Reads pinned to the manifest return the listed bytes, and refuse as
// tampered (exit 2) a file swapped after the pack was opened (and so
// after it was verified), or one the manifest does not list.
func TestPinnedReadsRefuseSwappedFiles(t *testing.T) {
	t.Parallel()
	drain := func(p *Pack) error {
		it, err := p.PinnedReceipts()
		if err != nil {
			return err
		}
		defer it.Close()
		for it.Next() {
		}
		return it.Err()
	}
	dir := copyGolden(t)
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want, _ := os.ReadFile(filepath.Join(dir, FileReport))
	if b, err := p.ReadPinned(FileReport, MaxReportBytes); err != nil || string(b) != string(want) {
		t.Fatalf("honest report: %v", err)
	}
	if err := drain(p); err != nil {
		t.Fatalf("honest receipts: %v", err)
	}
	if _, err := p.ReadPinned(FileSignature, MaxSignatureBytes); exit.Code(err) != exit.Tampered || !strings.Contains(err.Error(), "not listed") {
		t.Fatalf("unlisted file: %v", err)
	}
	for _, c := range []struct {
		name, file, content string
	}{
		{"report swapped", FileReport, "{}"},
		{"receipts swapped", FileReceipts, `{"receipt_id":"r_x","type":"model_call"}` + "\n"},
		{"receipts without a final newline", FileReceipts, `{"receipt_id":"r_x","type":"model_call"}`},
		{"receipts emptied", FileReceipts, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := copyGolden(t)
			p, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			// Swapped by rename, as a writer racing the reader would.
			tmp := filepath.Join(dir, "swap.tmp")
			if err := os.WriteFile(tmp, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(dir, c.file)); err != nil {
				t.Fatal(err)
			}
			if c.file == FileReport {
				_, err = p.ReadPinned(FileReport, MaxReportBytes)
			} else {
				err = drain(p)
			}
			if exit.Code(err) != exit.Tampered || !strings.Contains(err.Error(), c.file+" changed after the pack was verified") {
				t.Fatalf("got %v (exit %d)", err, exit.Code(err))
			}
		})
	}
}
