package proof

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/receipt"
)

func buildPack(t testing.TB, n int) string {
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("proof_pack_%d", n))
	packstest.Build(t, dir, packstest.Generic(n), nil)
	return dir
}

func id(i int) string { return fmt.Sprintf("r_%012x", i) }

func mustProve(t testing.TB, dir, rid string) []byte {
	t.Helper()
	_, data, err := Prove(dir, rid)
	if err != nil {
		t.Fatalf("prove %s: %v", rid, err)
	}
	return data
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 1000} {
		dir := buildPack(t, n)
		idx := []int{0, n / 2, n - 1}
		if n <= 3 {
			idx = nil
			for i := 0; i < n; i++ {
				idx = append(idx, i)
			}
		}
		for _, i := range idx {
			data := mustProve(t, dir, id(i))
			r := Check(data)
			if !r.OK || r.ExitCode != 0 || len(r.Errors) != 0 {
				t.Fatalf("n=%d i=%d: %+v", n, i, r)
			}
			if r.ReceiptID != id(i) || r.LeafIndex != uint64(i) || r.TreeSize != uint64(n) {
				t.Fatalf("n=%d i=%d: result names %s at %d of %d", n, i, r.ReceiptID, r.LeafIndex, r.TreeSize)
			}
			if !strings.Contains(r.Receipt, `"receipt_id":"`+id(i)+`"`) {
				t.Fatalf("receipt line %q", r.Receipt)
			}
			for _, s := range r.Steps {
				if !s.OK {
					t.Fatalf("step %s failed", s.Name)
				}
			}
		}
	}
}

var (
	bigOnce sync.Once
	bigDir  string
	bigTime time.Duration
)

// The 100000-receipt pack is built once (about a second) in a directory
// removed by TestMain.
func bigPack(t testing.TB) string {
	bigOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "proof-big-*")
		if err != nil {
			t.Fatal(err)
		}
		bigTmp = tmp
		bigDir = filepath.Join(tmp, "proof_pack_big")
		start := time.Now()
		packstest.Build(t, bigDir, packstest.Generic(100000), nil)
		bigTime = time.Since(start)
	})
	if bigDir == "" || !packExists(bigDir) {
		t.Fatal("big pack was not built")
	}
	return bigDir
}

var bigTmp string

func packExists(d string) bool {
	_, err := os.Stat(filepath.Join(d, "pack_manifest.json"))
	return err == nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigTmp != "" {
		os.RemoveAll(bigTmp)
	}
	os.Exit(code)
}

func TestRoundTripBig(t *testing.T) {
	t.Parallel()
	dir := bigPack(t)
	t.Logf("built 100000-receipt pack in %v", bigTime)
	for _, i := range []int{65536, 0, 99999} {
		start := time.Now()
		var data []byte
		if i == 65536 {
			data = mustProve(t, dir, id(i))
		} else {
			// The pack was verified by the first Prove; skip re-verifying it.
			var err error
			if _, data, err = proveDir(dir, id(i)); err != nil {
				t.Fatal(err)
			}
		}
		proveTime := time.Since(start)
		start = time.Now()
		r := Check(data)
		if !r.OK || r.LeafIndex != uint64(i) || r.TreeSize != 100000 {
			t.Fatalf("i=%d: %+v", i, r.Errors)
		}
		t.Logf("i=%d prove %v, check %v, proof %d bytes", i, proveTime, time.Since(start), len(data))
	}
}

// flipFails checks that changing the byte at each given position (with
// several masks) makes Check fail.
func flipFails(t *testing.T, data []byte, positions []int) {
	t.Helper()
	buf := bytes.Clone(data)
	for _, pos := range positions {
		for _, mask := range []byte{0x01, 0x20, 0x80, 0xff} {
			buf[pos] = data[pos] ^ mask
			r := Check(buf)
			if r.OK || r.ExitCode == 0 {
				t.Fatalf("flipping byte %d (%q) with mask %#x still verifies", pos, data[pos], mask)
			}
			if r.ExitCode != exit.Tampered && r.ExitCode != exit.BadInput {
				t.Fatalf("byte %d: exit %d", pos, r.ExitCode)
			}
		}
		buf[pos] = data[pos]
	}
}

func TestEveryByteFlipFails(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, 3)
	data := mustProve(t, dir, id(1))
	all := make([]int, len(data))
	for i := range all {
		all[i] = i
	}
	flipFails(t, data, all)
	t.Logf("checked %d positions x 4 masks of a %d-byte proof", len(data), len(data))
}

func TestDenseByteFlipBig(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, 1000)
	data := mustProve(t, dir, id(777))
	rng := rand.New(rand.NewSource(1))
	var pos []int
	for i := 0; i < len(data); i += 1 + rng.Intn(5) {
		pos = append(pos, i)
	}
	pos = append(pos, len(data)-1)
	flipFails(t, data, pos)
}

// edit decodes a proof, applies f and re-encodes it canonically, so only
// the semantic checks can catch the change.
func edit(t *testing.T, data []byte, f func(doc *canon.Object)) []byte {
	t.Helper()
	v, err := canon.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	doc := v.(*canon.Object)
	f(doc)
	b, err := canon.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func obj(doc *canon.Object, k string) *canon.Object { v, _ := doc.Get(k); return v.(*canon.Object) }

func TestSemanticTamperIsExit2(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, 5)
	data := mustProve(t, dir, id(2))
	other := mustProve(t, dir, id(3))
	ov, _ := canon.Decode(other)
	otherDoc := ov.(*canon.Object)
	cases := map[string]func(doc *canon.Object){
		"leaf index":   func(d *canon.Object) { obj(d, "inclusion").Set("leaf_index", canon.Number("3")) },
		"tree size":    func(d *canon.Object) { obj(d, "inclusion").Set("tree_size", canon.Number("6")) },
		"receipt line": func(d *canon.Object) { d.Set("receipt_line", otherDoc.String("receipt_line")) },
		"line and id": func(d *canon.Object) {
			d.Set("receipt_line", otherDoc.String("receipt_line"))
			d.Set("receipt_id", id(3))
		},
		"receipt id":        func(d *canon.Object) { d.Set("receipt_id", id(3)) },
		"pack id":           func(d *canon.Object) { d.Set("pack_id", "pack_other") },
		"manifest field":    func(d *canon.Object) { obj(d, "pack_manifest").Set("signer_id", "mallory") },
		"pack root":         func(d *canon.Object) { obj(d, "pack_manifest").Set("pack_root_sha256", strings.Repeat("0", 64)) },
		"report whitespace": func(d *canon.Object) { d.Set("verify_report", d.String("verify_report")+"\n") },
		"audit path": func(d *canon.Object) {
			v, _ := obj(d, "inclusion").Get("audit_path")
			l := v.([]any)
			l[0], l[1] = l[1], l[0]
		},
		"extra field":   func(d *canon.Object) { d.Set("note", "hi") },
		"missing field": func(d *canon.Object) { d.Delete("pack_id") },
	}
	for name, f := range cases {
		r := Check(edit(t, data, f))
		if r.OK || r.ExitCode != exit.Tampered {
			t.Errorf("%s: ok=%v exit=%d errors=%v", name, r.OK, r.ExitCode, r.Errors)
		}
	}
	// The unedited proof re-encodes to itself.
	if r := Check(edit(t, data, func(*canon.Object) {})); !r.OK {
		t.Fatalf("re-encoded proof fails: %v", r.Errors)
	}
}

// A proof mixing two packs never verifies: a receipt of pack B with the
// manifest and report of pack A, or a proof of B checked against A's root.
func TestReceiptOfAnotherPackFails(t *testing.T) {
	t.Parallel()
	a := buildPack(t, 4)
	b := filepath.Join(t.TempDir(), "proof_pack_b")
	recs := packstest.Generic(4)
	recs[2].Set("n", canon.Number("42")) // same ids, different content
	packstest.Build(t, b, recs, nil)
	pa := mustProve(t, a, id(2))
	pb := mustProve(t, b, id(2))
	bv, _ := canon.Decode(pb)
	bdoc := bv.(*canon.Object)
	for name, f := range map[string]func(d *canon.Object){
		"B's line in A's proof": func(d *canon.Object) { d.Set("receipt_line", bdoc.String("receipt_line")) },
		"B's line and path": func(d *canon.Object) {
			d.Set("receipt_line", bdoc.String("receipt_line"))
			d.Set("inclusion", obj(bdoc, "inclusion"))
		},
		"A's manifest and report": func(d *canon.Object) {
			d.Set("pack_manifest", obj(bdoc, "pack_manifest"))
			d.Set("pack_id", bdoc.String("pack_id"))
		},
		"B's report under A": func(d *canon.Object) {
			d.Set("verify_report", bdoc.String("verify_report"))
			d.Set("inclusion", obj(bdoc, "inclusion"))
		},
	} {
		r := Check(edit(t, pa, f))
		if r.OK || r.ExitCode != exit.Tampered {
			t.Errorf("%s: ok=%v exit=%d", name, r.OK, r.ExitCode)
		}
	}
	if !Check(pb).OK {
		t.Fatal("B's own proof fails")
	}
}

// Receipt ids are opaque strings: quotes, backslashes, non-ASCII and line
// separators (escaped in pack lines) are all found and proven.
func TestOddReceiptIDs(t *testing.T) {
	t.Parallel()
	ids := []string{`q"uote`, `back\slash`, "caf\u00e9 ☃", "line\u2028sep", "r/with/slashes"}
	var recs []*receipt.Receipt
	for i, rid := range ids {
		recs = append(recs, packstest.R(map[string]any{"receipt_id": rid, "type": "session_metadata", "seq": i, "timestamp": "2026-01-15T12:00:00+00:00"}))
	}
	dir := filepath.Join(t.TempDir(), "proof_pack_odd")
	packstest.Build(t, dir, recs, nil)
	for _, rid := range ids {
		_, data, err := Prove(dir, rid)
		if err != nil {
			t.Fatalf("%q: %v", rid, err)
		}
		if r := Check(data); !r.OK || r.ReceiptID != rid {
			t.Fatalf("%q: %+v", rid, r.Errors)
		}
	}
}

func TestProveRefuses(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, 3)
	tampered := filepath.Join(t.TempDir(), "proof_pack_t")
	packstest.Copy(t, dir, tampered)
	packstest.FlipByte(t, filepath.Join(tampered, "receipt_pack.jsonl"), 40)
	cases := []struct {
		name, dir, id string
		code          int
	}{
		{"tampered pack", tampered, id(0), exit.Tampered},
		{"unknown receipt", dir, "r_nope", exit.BadInput},
		{"empty id", dir, "", exit.BadInput},
		{"no such dir", filepath.Join(dir, "nope"), id(0), exit.BadInput},
		{"not a pack", t.TempDir(), id(0), exit.BadInput},
		// Reference packs record no Merkle root.
		{"reference pack", "../../testdata/vectors/pack/golden_minimal", "r_001", exit.BadInput},
	}
	for _, c := range cases {
		_, _, err := Prove(c.dir, c.id)
		if exit.Code(err) != c.code {
			t.Errorf("%s: exit %d (%v), want %d", c.name, exit.Code(err), err, c.code)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", c.name, err)
		}
	}
}

func TestCheckBadInput(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"empty":        "",
		"not json":     "hello",
		"array":        "[1,2]",
		"other format": `{"format":"something.else"}`,
		"no format":    `{"pack_id":"x"}`,
	} {
		r := Check([]byte(data))
		if r.OK || r.ExitCode != exit.BadInput || len(r.Errors) != 1 {
			t.Errorf("%s: %+v", name, r)
		}
	}
}
