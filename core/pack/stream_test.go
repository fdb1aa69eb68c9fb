package pack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
)

// writeTrace writes lines as a trace file.
func writeTrace(t *testing.T, lines []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// samePack fails unless two pack directories hold the same bytes.
func samePack(t *testing.T, a, b string) {
	t.Helper()
	for _, n := range append(append([]string{}, KernelFiles...), filepath.Join(DirUnsigned, "PACK_SUMMARY.md")) {
		x, err1 := os.ReadFile(filepath.Join(a, n))
		y, err2 := os.ReadFile(filepath.Join(b, n))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Fatalf("%s differs (%v, %v):\n%.600s\n---\n%.600s", n, err1, err2, x, y)
		}
	}
	ents, _ := os.ReadDir(b)
	if len(ents) != len(KernelFiles)+1 {
		t.Fatalf("streamed pack holds %d entries", len(ents))
	}
}

// Golden vector, streamed: the trace in reverse order gives the golden
// receipt_pack.jsonl and identifiers.
func TestBuildTraceGolden(t *testing.T) {
	t.Parallel()
	runID, recs, now := goldenInputs(t)
	var lines []string
	for _, r := range recs {
		b, _ := canon.Marshal(r)
		lines = append(lines, string(b))
	}
	out := filepath.Join(t.TempDir(), "pack")
	res, probs, err := BuildTrace(Options{
		RunID: runID, Signer: zeroSigner("conformance-test-signer"), OutDir: out,
		Now: now, Deterministic: true, VerifierVersion: "1.14.0",
	}, writeTrace(t, lines))
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	want, _ := os.ReadFile(vectors + "golden_minimal/receipt_pack.jsonl")
	got, _ := os.ReadFile(filepath.Join(out, FileReceipts))
	if !bytes.Equal(got, want) {
		t.Fatalf("receipt_pack.jsonl differs:\n got %q\nwant %q", got, want)
	}
	if res.HeadHash != "8070489bebfc93df39263ef96c5791a1ed5650072ce4b66ed86384ad0c5cff84" ||
		res.PackRootSHA256 != "f543e680ad5a20cbe8c96e0aa4234b4dcee31a872363470a2bdc5d1fe26c677d" ||
		res.PackID != "pack_deterministic_ddef95aa" {
		t.Fatalf("identifiers: %+v", res)
	}
}

// randomTrace makes trace lines: receipts in random or store order, with
// duplicate ids, missing and bad timestamps, stripped keys, equal sort keys,
// non-receipt lines and blank lines.
func randomTrace(rng *rand.Rand, n int, ordered bool) []string {
	var lines []string
	for i := 0; i < n; i++ {
		m := map[string]any{
			"receipt_id":   fmt.Sprintf("r_%04d", rng.Intn(4*n+1)),
			"type":         []string{"model_call", "model_call", "guardian_verdict", "mcp_tool_call"}[rng.Intn(4)],
			"model_id":     []string{"gpt-4o", "claude"}[rng.Intn(2)],
			"total_tokens": rng.Intn(100),
		}
		if ordered {
			m["seq"] = i
			m["receipt_id"] = fmt.Sprintf("r_%04d", i)
		} else if rng.Intn(5) > 0 {
			m["seq"] = []any{rng.Intn(n + 1), float64(rng.Intn(4)) + 0.5, -1, "7"}[rng.Intn(4)]
		}
		switch rng.Intn(8) {
		case 0:
		case 1:
			m["timestamp"] = "yesterday"
		case 2:
			m["_stored_at"] = "2026-01-15 11:59:00"
		default:
			m["timestamp"] = fmt.Sprintf("2026-01-15T11:%02d:%02d+00:00", rng.Intn(60), rng.Intn(60))
		}
		switch rng.Intn(4) {
		case 0:
			m["_trace_id"] = "t"
		case 1:
			m["run_id"] = "t"
		}
		if ordered { // as the store writes: one trace, seq ascending
			m["_trace_id"] = "t"
		}
		if rng.Intn(6) == 0 {
			m["signature"] = "c2ln"
			m["nested"] = map[string]any{"anchor": 1, "x": "\u2028"}
		}
		b, _ := json.Marshal(m)
		lines = append(lines, string(b))
		switch rng.Intn(30) {
		case 0:
			lines = append(lines, "   ")
		case 1:
			lines = append(lines, `{"cut short`)
		case 2:
			lines = append(lines, `[1,2]`)
		}
	}
	return lines
}

// BuildTrace writes byte for byte what Build writes from the receipts
// store.ReadFile returns, whether the trace is in order or not, with or
// without claims, and whether its sort keys fit in memory or spill.
func TestBuildTraceMatchesBuild(t *testing.T) {
	t.Parallel()
	cards, err := claims.LoadAll([]string{"receipt_completeness", "no_breakglass", "timestamp_ordering", "schema_consistency", "token_budget"})
	if err != nil {
		t.Fatal(err)
	}
	cl := claims.Flatten(cards)
	cl[len(cl)-1].Params["max_total_tokens"] = 500
	rng := rand.New(rand.NewSource(7))
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for round := 0; round < 30; round++ {
		n := []int{0, 1, 2, 17, 300}[round%5]
		ordered := round%3 == 0
		trace := writeTrace(t, randomTrace(rng, n, ordered))
		recs, probs, err := store.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		var cls []claims.Claim
		if round%2 == 1 {
			cls = cl
		}
		dir := t.TempDir()
		opt := Options{RunID: "t", Signer: zeroSigner("s"), Now: now, Deterministic: true, Claims: cls, ClaimEnv: claims.Env{Dir: dir}}
		opt.Receipts, opt.OutDir = recs, filepath.Join(dir, "mem")
		want, err := Build(opt)
		if err != nil {
			t.Fatalf("round %d: Build: %v", round, err)
		}
		for _, budget := range []int{0, 200} {
			opt.Receipts, opt.OutDir, opt.SortMemory = nil, filepath.Join(dir, fmt.Sprint("stream", budget)), budget
			got, gotProbs, err := BuildTrace(opt, trace)
			if err != nil {
				t.Fatalf("round %d budget %d: BuildTrace: %v", round, budget, err)
			}
			if !reflect.DeepEqual(gotProbs, probs) {
				t.Fatalf("round %d: problems %v, want %v", round, gotProbs, probs)
			}
			if got.PackRootSHA256 != want.PackRootSHA256 || got.MerkleRoot != want.MerkleRoot || got.ReceiptIntegrity != want.ReceiptIntegrity {
				t.Fatalf("round %d: result %+v, want %+v", round, got, want)
			}
			samePack(t, want.Dir, got.Dir)
		}
	}
}

// Refusals are the same as Build's, and leave nothing behind.
func TestBuildTraceRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]string{
		"bad type":      `{"receipt_id":"r","type":"policy_impact","timestamp":"2026-01-15T11:59:00+00:00"}`,
		"foreign trace": `{"receipt_id":"r","type":"model_call","_trace_id":"other"}`,
		"conflict":      `{"receipt_id":"r","type":"model_call","_trace_id":"t","run_id":"u"}`,
		"array owners":  `{"receipt_id":"r","type":"model_call","_trace_id":[1],"run_id":[1]}`,
		"non-ascii key": `{"receipt_id":"r","type":"model_call","sіgnature":1}`,
	}
	for name, line := range cases {
		trace := writeTrace(t, []string{`{"receipt_id":"ok","type":"model_call","seq":5}`, line})
		out := filepath.Join(dir, "p")
		_, _, err := BuildTrace(Options{RunID: "t", Signer: zeroSigner("s"), OutDir: out}, trace)
		if exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v", name, err)
		}
		if fileExists(out) {
			t.Errorf("%s: left %s behind", name, out)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("staging left behind: %v", ents)
	}
	// A missing trace is bad input too.
	if _, _, err := BuildTrace(Options{RunID: "t", Signer: zeroSigner("s"), OutDir: filepath.Join(dir, "q")}, filepath.Join(dir, "none.jsonl")); exit.Code(err) != exit.BadInput {
		t.Errorf("missing trace: %v", err)
	}
}

// The external sort gives the in-memory order for any budget.
func TestSorterSpills(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(3))
	var recs [][]byte
	for i := 0; i < 2000; i++ {
		recs = append(recs, []byte(fmt.Sprintf("%08d-%d", rng.Intn(3000), i)))
	}
	for _, budget := range []int{200, 4096, 1 << 20} {
		s := newSorter(compareBytes, budget, t.TempDir())
		for _, r := range recs {
			if err := s.add(r); err != nil {
				t.Fatal(err)
			}
		}
		for pass := 0; pass < 2; pass++ {
			var got [][]byte
			if err := s.each(func(r []byte) error { got = append(got, bytes.Clone(r)); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(recs) {
				t.Fatalf("budget %d: %d records", budget, len(got))
			}
			for i := 1; i < len(got); i++ {
				if bytes.Compare(got[i-1], got[i]) > 0 {
					t.Fatalf("budget %d: out of order at %d", budget, i)
				}
			}
		}
		s.close()
	}
}
