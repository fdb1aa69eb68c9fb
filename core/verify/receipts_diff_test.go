package verify

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// nastyLines are receipt lines (and non-lines) whose verdicts are easy to
// get wrong in a hand-written pass.
var nastyLines = []string{
	`{"receipt_id":"r_1","type":"model_call","timestamp":"2026-01-15T11:59:00.123456+00:00","callsite_id":"cs1"}`,
	`{"receipt_id":"r_2","type":"model_call","timestamp":"2026-01-15T11:59:00Z"}`,
	`{"receipt_id":"r_\u0033","type":"mod\u0065l_call","timestamp":"2026-01-15T11:59:00+00:00","callsite_id":"c\"s"}`,
	`{"receipt_id":"r_4","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","receipt_id":"r_5"}`,
	`{"receipt_id":"r_6","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","type":7}`,
	`{"receipt_id":"r_7","type":"model_call","timestamp":"2026-02-30T11:59:00+00:00"}`,
	`{"receipt_id":"r_8","type":"model_call","timestamp":"2024-02-29 23:59:59,5+00:00"}`,
	`{"receipt_id":"r_9","type":"model_call","timestamp":"2026-01-15T11:59:00+05:30"}`,
	`{"receipt_id":"r_10","type":"model_call","timestamp":"20260115T115900"}`,
	`{"receipt_id":"r_11","type":"model_call","timestamp":"2026-01-15T24:00:00+00:00"}`,
	`{"receipt_id":"r_12","type":"model_call","timestamp":"2026-01-15T11:59:00.+00:00"}`,
	`{"receipt_id":"r_13","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","x":NaN}`,
	`{"receipt_id":"r_14","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","x":NaN,"x":1}`,
	`{"receipt_id":"r_15","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","x":1e400}`,
	`{"receipt_id":"r_16","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","signature":NaN}`,
	`{"receipt_id":"r_16a","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","signatures":[NaN],"anchor":1e400}`,
	`{"receipt_id":"r_16b","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","cose_signature":{"é":1},"receipt_hash":-Infinity}`,
	`{"receipt_id":"r_16c","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","anchors":NaN}`,
	`{"receipt_id":"r_17","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","\u0073ignature":{"é":1}}`,
	`{"receipt_id":"r_18","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","a":{"b":[{"ü":1}]}}`,
	`{"receipt_id":"r_19","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","é":1}`,
	`{"receipt_id":"r_20","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","s":"\ud83d"}`,
	`{"receipt_id":"r_21","receipt_type":"model_call","timestamp":"2026-01-15T11:59:00+00:00"}`,
	`{"receipt_id":"r_22","type":"","receipt_type":"loom.bad","timestamp":"2026-01-15T11:59:00+00:00"}`,
	`{"receipt_id":"r_23","type":"acme.tool_call","timestamp":"2026-01-15T11:59:00+00:00","callsite_id":"cs1"}`,
	`{"receipt_id":"r_24","type":"Bad Type","timestamp":"2026-01-15T11:59:00+00:00","callsite_id":"cs2"}`,
	`{"receipt_id":"r_1","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00"}`,
	`{"type":"model_call","timestamp":"2026-01-15T11:59:00+00:00"}`,
	`{"receipt_id":"r_25","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","callsite_id":7}`,
	`{}`, `[]`, `"str"`, `1`, `null`, `NaN`,
	"", "   ", "\t", "\r", "\v\f", "\u00a0", "\u2028",
	"\ufeff{\"receipt_id\":\"r_26\",\"type\":\"model_call\",\"timestamp\":\"2026-01-15T11:59:00+00:00\"}",
	"{\"receipt_id\":\"r_27\",\"type\":\"model_call\",\"timestamp\":\"2026-01-15T11:59:00+00:00\"}\r",
	"{\"receipt_id\":\"r_28\",\"type\":\"model_call\",\"timestamp\":\"2026-01-15T11:59:00+00:00\",\"s\":\"\xff\"}",
	`{"receipt_id":"r_29","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00",}`,
	`{"receipt_id":"r_30","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00"} x`,
	`{"receipt_id":"r_31","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","deep":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + `}`,
	`{"receipt_id":"r_32","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","deep":` + strings.Repeat("[", 512) + strings.Repeat("]", 512) + `}`,
	`{"receipt_id":"r_33","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","long":"` + strings.Repeat("x", 3<<20) + `"}`,
	`not json`,
}

// compareScans asserts the fast pass and the reference agree on everything
// verify reads from a scan.
func compareScans(t *testing.T, path string) {
	t.Helper()
	got, want := scanPath(path), scanReceiptsRef(path)
	if got.missing != want.missing || (got.readErr == nil) != (want.readErr == nil) {
		t.Fatalf("missing/readErr: got %v %v, want %v %v", got.missing, got.readErr, want.missing, want.readErr)
	}
	if want.missing || want.readErr != nil {
		return
	}
	type view struct {
		FileHash            string
		Size                int64
		Count, ParseErrLine int
		BlankLine           int
		IntegrityOK         bool
		Last                string
		TreeSize            uint64
		Root                string
		BadTypes            []badType
		Callsites           []string
		Types               map[string]int
	}
	v := func(s receiptScan, last *receipt.Receipt, size uint64, root string) view {
		l := "<nil>"
		if last != nil {
			b, err := canon.Options{KeepOrder: true}.Marshal(last)
			l = fmt.Sprint(string(b), err)
		}
		return view{s.fileHash, s.size, s.count, s.parseErrLine, s.blankLine, s.integrityOK, l, size, root, s.badTypes, s.callsites, s.types}
	}
	// The fast pass builds the Merkle tree only while no line is blank and
	// none failed to parse; then it must equal the reference's.
	wantComplete := want.parseErrLine == 0 && want.blankLine == 0
	if got.treeComplete != wantComplete {
		t.Fatalf("treeComplete %v, want %v", got.treeComplete, wantComplete)
	}
	gotSize, gotRoot, wantSize, wantRoot := uint64(0), "", uint64(0), ""
	if wantComplete {
		gotSize, gotRoot, wantSize, wantRoot = got.tree.Size(), got.tree.RootHex(), want.tree.Size(), want.tree.RootHex()
	}
	wantBad := want.badTypes
	if len(wantBad) > MaxErrors {
		wantBad = wantBad[:MaxErrors]
	}
	if got.badTypeCount != len(want.badTypes) {
		t.Fatalf("badTypeCount %d, want %d", got.badTypeCount, len(want.badTypes))
	}
	g := v(got, got.last, gotSize, gotRoot)
	w := v(receiptScan{fileHash: want.fileHash, size: want.size, count: want.count, parseErrLine: want.parseErrLine, blankLine: want.blankLine,
		integrityOK: want.integrityOK, badTypes: wantBad, callsites: want.callsites, types: want.types},
		want.last, wantSize, wantRoot)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("fast scan differs from the reference:\n got %+v\nwant %+v", short200(g), short200(w))
	}
}

// scanPath runs the fast pass over the file at path.
func scanPath(path string) receiptScan {
	f, err := os.Open(path)
	if err != nil {
		return receiptScan{missing: true}
	}
	defer f.Close()
	return scanReceipts(f)
}

func short200(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return s
}

func writeLines(t *testing.T, lines []string, finalNewline bool) string {
	t.Helper()
	body := strings.Join(lines, "\n")
	if finalNewline && len(lines) > 0 {
		body += "\n"
	}
	p := filepath.Join(t.TempDir(), "receipt_pack.jsonl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScanReceiptsMatchesReference runs each nasty line alone, then random
// files mixing them with good receipts (many chunks, long lines straddling
// chunk boundaries, with and without a final newline).
func TestScanReceiptsMatchesReference(t *testing.T) {
	t.Parallel()
	for i, l := range nastyLines {
		for _, nl := range []bool{true, false} {
			t.Run(fmt.Sprint(i, nl), func(t *testing.T) {
				good := `{"receipt_id":"r_g","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00"}`
				compareScans(t, writeLines(t, []string{l}, nl))
				compareScans(t, writeLines(t, []string{good, l}, nl))
				compareScans(t, writeLines(t, []string{l, good}, nl))
			})
		}
	}
	// Duplicate ids far apart (different chunks), spelled differently.
	var big []string
	for i := 0; i < 4000; i++ {
		big = append(big, fmt.Sprintf(`{"receipt_id":"r_%d","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","pad":"%s"}`, i, strings.Repeat("p", 600)))
	}
	for _, dup := range []string{`"r_0"`, `"r_\u0030"`, `"r_3999"`, `"r_x"`} {
		lines := append(append([]string{}, big...), `{"receipt_id":`+dup+`,"type":"model_call","timestamp":"2026-01-15T11:59:00+00:00"}`)
		compareScans(t, writeLines(t, lines, true))
		if got := scanPath(writeLines(t, lines, true)).integrityOK; got != (dup == `"r_x"`) {
			t.Fatalf("duplicate %s: integrityOK %v", dup, got)
		}
	}
	compareScans(t, filepath.Join(t.TempDir(), "missing.jsonl"))
	compareScans(t, t.TempDir()) // a directory: a read error
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 12; round++ {
		n := 3000 + rng.Intn(3000)
		lines := make([]string, n)
		for i := range lines {
			lines[i] = fmt.Sprintf(`{"receipt_id":"mcr_%016x","type":"model_call","timestamp":"2026-01-15T11:%02d:%02d.%06d+00:00","callsite_id":"%03d","pad":"%s"}`,
				i+round*100000, i/60%60, i%60, i, i%37, strings.Repeat("p", rng.Intn(900)))
		}
		for k := 0; k < round%4; k++ {
			lines[rng.Intn(n)] = nastyLines[rng.Intn(len(nastyLines))]
		}
		compareScans(t, writeLines(t, lines, round%2 == 0))
	}
}

// TestHugeLinePathMatchesReference runs the full-decode path for long
// lines (over 2 GiB in production) on every nasty line by lowering the
// limit.
func TestHugeLinePathMatchesReference(t *testing.T) {
	defer func(old int) { scanLimit = old }(scanLimit)
	scanLimit = 0
	good := `{"receipt_id":"r_g","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","callsite_id":"c\u0031"}`
	for _, l := range nastyLines {
		compareScans(t, writeLines(t, []string{good, l, good}, true))
		compareScans(t, writeLines(t, []string{l}, false))
	}
}

// FuzzScanReceiptsMatchesReference: any file content gives the same scan.
func FuzzScanReceiptsMatchesReference(f *testing.F) {
	for _, l := range nastyLines {
		if len(l) < 4096 {
			f.Add([]byte(l + "\n" + l))
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "receipt_pack.jsonl")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		compareScans(t, p)
	})
}

func FuzzTimestampMatchesParse(f *testing.F) {
	for _, s := range []string{"2026-01-15T11:59:00.123456+00:00", "2026-01-15T11:59:00Z", "2024-02-29 23:59:59,5+00:00", "2023-02-29T00:00:00+00:00",
		"0000-01-01T00:00:00+00:00", "2026-01-15T11:59:60+00:00", "2026-01-15T11:59:00.Z", "2026-01-15T11:59:00ZZ", "2026-01-15T11:59:00+00:00x"} {
		f.Add(s)
	}
	f.Add("0001-W0")
	f.Fuzz(func(t *testing.T, s string) {
		want := parseTimestamp(s)
		if fastTimestamp([]byte(s)) && !want {
			t.Fatalf("%q: fast path accepts what ParseTimestamp refuses", s)
		}
		if validTimestamp([]byte(s)) != want {
			t.Fatalf("%q: validTimestamp %v, ParseTimestamp %v", s, !want, want)
		}
	})
}

// TestFastTimestampTakesReferenceForm: the reference's own format never
// leaves the fast path (or the speed-up is lost silently).
func TestFastTimestampTakesReferenceForm(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2026-01-15T11:59:00.123456+00:00", "2026-01-15T11:59:00+00:00", "2026-01-15T11:59:00Z", "2000-02-29T23:59:59.1Z"} {
		if !fastTimestamp([]byte(s)) {
			t.Errorf("%q not on the fast path", s)
		}
	}
}

func TestScanReceiptsAllocsPerLine(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, `{"receipt_id":"mcr_%016x","type":"model_call","timestamp":"2026-01-15T11:00:00.%06d+00:00","callsite_id":"%03d"}`+"\n", i, i, i%50)
	}
	p := filepath.Join(t.TempDir(), "receipt_pack.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(3, func() { scanPath(p) })
	// Per-file setup (channels, chunk buffers, maps, 50 callsite strings)
	// is allowed; per-line allocation is not.
	if allocs > 1000 {
		t.Fatalf("%v allocations for 20000 lines", allocs)
	}
}

func TestIDSet(t *testing.T) {
	t.Parallel()
	var s idSet
	for i := uint64(0); i < 5000; i++ {
		s.add(i * 0x9E3779B97F4A7C15)
	}
	if len(s.collided) != 0 {
		t.Fatalf("false collisions: %v", s.collided)
	}
	k := uint64(7)
	dup := k * 0x9E3779B97F4A7C15
	s.add(0)
	s.add(dup)
	if !reflect.DeepEqual(s.collided, []uint64{0, dup}) {
		t.Fatalf("collisions %v", s.collided)
	}
}

// TestTimestampThatPanicsParse: receipt.ParseTimestamp panics on some short
// week dates; the pass must call that receipt malformed, not crash.
func TestTimestampThatPanicsParse(t *testing.T) {
	t.Parallel()
	p := writeLines(t, []string{`{"receipt_id":"r_1","type":"model_call","timestamp":"0001-W0"}`}, true)
	s := scanPath(p)
	if s.count != 1 || s.integrityOK || s.parseErrLine != 0 {
		t.Fatalf("count %d integrityOK %v parseErrLine %d", s.count, s.integrityOK, s.parseErrLine)
	}
}
