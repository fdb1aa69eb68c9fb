package diff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/receipt"
)

func fptr(f float64) *float64 { return &f }
func iptr(i int) *int         { return &i }

// allGates are the gates the fixture table runs with.
var allGates = Gates{CostPct: fptr(25), P95Pct: fptr(25), Errors: iptr(0)}

func failedGates(r *Result) []string {
	var out []string
	for _, g := range r.Gates {
		if !g.Passed {
			out = append(out, g.Name)
		}
	}
	sort.Strings(out)
	return out
}

func TestFixturesTripTheRightGate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	cases := []struct {
		variant     string
		exit        int
		status      string
		failed      string // comma-separated failing gates
		regressions int
	}{
		{"same", 0, StatusOK, "", 0},
		{"model_swap", 1, StatusGateFailed, "cost_pct", 0},
		{"cost_up", 1, StatusGateFailed, "cost_pct", 0},
		{"latency_up", 1, StatusGateFailed, "p95_pct", 0},
		{"claim_regression", 1, StatusRegression, "", 1},
		{"errors", 1, StatusGateFailed, "errors", 0},
	}
	for _, c := range cases {
		t.Run(c.variant, func(t *testing.T) {
			b := packstest.DiffFixture(t, dir, c.variant)
			r, err := Compare(base, b, Options{Gates: allGates})
			if err != nil {
				t.Fatal(err)
			}
			if r.ExitCode != c.exit || r.Status != c.status || r.Regressions != c.regressions {
				t.Fatalf("exit %d status %s regressions %d; want %d %s %d (reasons %v)", r.ExitCode, r.Status, r.Regressions, c.exit, c.status, c.regressions, r.Reasons)
			}
			if got := strings.Join(failedGates(r), ","); got != c.failed {
				t.Fatalf("failed gates %q, want %q (%+v)", got, c.failed, r.Gates)
			}
			if !r.Verified || len(r.Preflight) != 2 || r.Preflight[0].ExitCode != 0 || r.Preflight[1].ExitCode != 0 {
				t.Fatalf("preflight %+v", r.Preflight)
			}
			if c.exit != 0 && len(r.Reasons) == 0 {
				t.Fatal("no reason given for a failing diff")
			}
		})
	}
}

func TestAnalysisFigures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	swap := packstest.DiffFixture(t, dir, "model_swap")
	r, err := Compare(base, swap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.AnalysisA, r.AnalysisB
	// 10 calls x (1000 in, 200 out); gpt-4o-mini is $0.15/$0.60, gpt-4o $2.50/$10 per 1M.
	if a.ModelCalls != 10 || a.InputTokens != 10000 || a.OutputTokens != 2000 || a.TotalTokens != 12000 {
		t.Fatalf("analysis A %+v", a)
	}
	if a.CostUSD != 0.0027 || b.CostUSD != 0.045 || r.CostDeltaUSD != 0.0423 {
		t.Fatalf("costs %v %v delta %v", a.CostUSD, b.CostUSD, r.CostDeltaUSD)
	}
	// Latencies 100..1000: p50 = sorted[5] = 600, p95 = sorted[min(9, 9)] = 1000.
	if *a.LatencyP50Ms != 600 || *a.LatencyP95Ms != 1000 || a.LatencySamples != 10 {
		t.Fatalf("latency %v %v", *a.LatencyP50Ms, *a.LatencyP95Ms)
	}
	want := map[string]string{"gpt-4o": "added", "gpt-4o-mini": "removed"}
	if len(r.Models) != 2 {
		t.Fatalf("models %+v", r.Models)
	}
	for _, m := range r.Models {
		if want[m.Model] != m.Status {
			t.Fatalf("model %s status %s", m.Model, m.Status)
		}
	}
	if a.Models[0].PriceKey != "gpt-4o-mini" || b.Models[0].PriceKey != "gpt-4o" {
		t.Fatalf("price keys %q %q", a.Models[0].PriceKey, b.Models[0].PriceKey)
	}
	if !r.SameClaimSet || r.SignerChanged || r.VersionChanged {
		t.Fatalf("metadata flags %v %v %v", r.SameClaimSet, r.SignerChanged, r.VersionChanged)
	}
	if len(r.Claims) != 2 || r.Claims[0].Status != ClaimUnchanged {
		t.Fatalf("claims %+v", r.Claims)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		vals     []float64
		p50, p95 float64
	}{
		{[]float64{7}, 7, 7},
		{[]float64{1, 2}, 2, 2},
		{[]float64{1, 2, 3}, 2, 3},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 11, 20},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}, 11, 20},
	} {
		if p := percentile(c.vals, 0.5); p != c.p50 {
			t.Errorf("p50 of %d values = %v, want %v", len(c.vals), p, c.p50)
		}
		if p := percentile(c.vals, 0.95); p != c.p95 {
			t.Errorf("p95 of %d values = %v, want %v", len(c.vals), p, c.p95)
		}
	}
}

func TestWhyFollowsParentChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	reg := packstest.DiffFixture(t, dir, "claim_regression")
	r, err := Compare(base, reg, Options{Why: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Why) != 1 {
		t.Fatalf("why %+v", r.Why)
	}
	w := r.Why[0]
	if w.ClaimID != "no_guardian_block" || w.ReceiptID != "r_guardian0001" || w.Note != "" {
		t.Fatalf("why %+v", w)
	}
	// guardian -> mcr 9 -> ... -> mcr 0: 11 receipts, root has no parent.
	if len(w.Chain) != 11 || w.Chain[0].Type != "guardian_verdict" || w.Chain[1].ReceiptID != "mcr_0000000000000009" || w.Chain[10].ReceiptID != "mcr_0000000000000000" {
		t.Fatalf("chain %+v", w.Chain)
	}
	if !strings.Contains(w.Chain[0].Summary, "verdict=deny") || !strings.Contains(w.Chain[1].Summary, "model_id=gpt-4o-mini") {
		t.Fatalf("summaries %q %q", w.Chain[0].Summary, w.Chain[1].Summary)
	}
	// Without --why there are no chains.
	r2, _ := Compare(base, reg, Options{})
	if len(r2.Why) != 0 {
		t.Fatal("chains without --why")
	}
}

func TestClaimStatuses(t *testing.T) {
	t.Parallel()
	tr, fa := true, false
	a := []claimResult{{ID: "x", Passed: true}, {ID: "y", Passed: false}, {ID: "z", Passed: true}, {ID: "gone", Passed: true}}
	b := []claimResult{{ID: "x", Passed: false}, {ID: "y", Passed: true}, {ID: "z", Passed: true}, {ID: "fresh", Passed: false}}
	got, n := compareClaims(a, b)
	if n != 1 {
		t.Fatalf("regressions %d", n)
	}
	want := []ClaimDelta{
		{ClaimID: "x", Status: ClaimRegressed, Before: &tr, After: &fa},
		{ClaimID: "y", Status: ClaimImproved, Before: &fa, After: &tr},
		{ClaimID: "z", Status: ClaimUnchanged, Before: &tr, After: &tr},
		{ClaimID: "fresh", Status: ClaimNew, After: &fa},
		{ClaimID: "gone", Status: ClaimRemoved, Before: &tr},
	}
	for i, w := range want {
		g := got[i]
		if g.ClaimID != w.ClaimID || g.Status != w.Status || (g.Before == nil) != (w.Before == nil) || (g.After == nil) != (w.After == nil) ||
			(g.Before != nil && *g.Before != *w.Before) || (g.After != nil && *g.After != *w.After) {
			t.Errorf("claim %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestIntegrityPreflight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	same := packstest.DiffFixture(t, dir, "same")
	packstest.FlipByte(t, filepath.Join(same, "receipt_pack.jsonl"), -1)
	r, err := Compare(base, same, Options{Gates: allGates})
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != exit.Tampered || r.Status != StatusIntegrityFailed || r.Preflight[1].ExitCode != exit.Tampered || len(r.Reasons) != 1 {
		t.Fatalf("tampered B: %+v", r)
	}
	if r.AnalysisA != nil || len(r.Claims) != 0 {
		t.Fatal("a tampered pack was compared")
	}
	// --no-verify compares anyway.
	r, err = Compare(base, same, Options{NoVerify: true})
	if err != nil || r.Verified || r.ExitCode == exit.Tampered || r.AnalysisB == nil {
		t.Fatalf("no-verify: %v %+v", err, r)
	}
	// A manifest that is not JSON is tampering too, not bad input.
	os.WriteFile(filepath.Join(same, "pack_manifest.json"), []byte("{not json"), 0o644)
	r, err = Compare(same, base, Options{})
	if err != nil || r.ExitCode != exit.Tampered {
		t.Fatalf("broken manifest: %v %+v", err, r)
	}
}

func TestGateEdgeCases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "proof_pack_empty")
	packstest.Build(t, empty, packstest.Generic(3), nil)
	empty2 := filepath.Join(dir, "proof_pack_empty2")
	packstest.Build(t, empty2, packstest.Generic(3), nil)
	base := packstest.DiffFixture(t, dir, "base")

	// No model calls at all: gates are skipped, or fail under --gate-strict.
	r, _ := Compare(empty, empty2, Options{Gates: allGates})
	if r.ExitCode != 0 || len(r.Gates) != 3 {
		t.Fatalf("lenient: %+v", r.Gates)
	}
	for _, g := range r.Gates {
		if !g.Skipped || !g.Passed {
			t.Fatalf("gate %+v not skipped", g)
		}
	}
	strict := allGates
	strict.Strict = true
	r, _ = Compare(empty, empty2, Options{Gates: strict})
	if r.ExitCode != 1 || strings.Join(failedGates(r), ",") != "cost_pct,errors,p95_pct" {
		t.Fatalf("strict: %+v", r.Gates)
	}

	// A zero-cost base and a positive new cost is an infinite rise.
	free := filepath.Join(dir, "proof_pack_free")
	packstest.Build(t, free, zeroTokenCalls(0), nil)
	r, _ = Compare(free, base, Options{Gates: Gates{CostPct: fptr(1000000)}})
	if r.ExitCode != 1 || !r.Gates[0].Infinite || r.Gates[0].Actual != nil {
		t.Fatalf("infinite: %+v", r.Gates)
	}
	// Prices from a file: making gpt-4o as cheap as gpt-4o-mini removes the rise.
	swap := packstest.DiffFixture(t, dir, "model_swap")
	pf := filepath.Join(dir, "prices.json")
	os.WriteFile(pf, []byte(`{"gpt-4o": {"input": 0.15, "output": 0.60}}`), 0o644)
	prices, err := LoadPrices(pf)
	if err != nil {
		t.Fatal(err)
	}
	r, _ = Compare(base, swap, Options{Gates: allGates, Prices: prices})
	if r.ExitCode != 0 || *r.Gates[0].Actual != 0 {
		t.Fatalf("custom prices: %+v", r.Gates)
	}
}

// zeroTokenCalls makes n+1 model calls that report zero tokens.
func zeroTokenCalls(n int) []*receipt.Receipt {
	var out []*receipt.Receipt
	for i := 0; i <= n; i++ {
		out = append(out, packstest.ModelCall(i, packstest.Call{Model: "gpt-4o-mini", LatencyMs: 5}))
	}
	return out
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	for name, b := range map[string]string{
		"missing": filepath.Join(dir, "nope"),
		"not dir": filepath.Join(base, "receipt_pack.jsonl"),
		"no pack": t.TempDir(),
	} {
		_, err := Compare(base, b, Options{})
		if exit.Code(err) != exit.BadInput || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (exit %d)", name, err, exit.Code(err))
		}
		_, err = Compare(base, b, Options{NoVerify: true})
		if exit.Code(err) != exit.BadInput {
			t.Errorf("%s --no-verify: %v", name, err)
		}
	}
}

func TestPrices(t *testing.T) {
	t.Parallel()
	p := BuiltinPrices()
	for model, key := range map[string]string{
		"gpt-4o":                     "gpt-4o",
		"gpt-4o-2024-08-06":          "gpt-4o",
		"gpt-4o-mini-2024-07-18":     "gpt-4o-mini",
		"GPT-4o":                     "gpt-4o",
		"openai/gpt-4.1-mini":        "gpt-4.1-mini",
		"claude-sonnet-4-20250514":   "claude-sonnet-4",
		"claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
		"gemini-2.5-flash-lite":      "gemini-2.5-flash-lite",
		"gemini-2.5-flash-001":       "gemini-2.5-flash",
		"llama-3-70b":                "",
		"unknown":                    "",
	} {
		pr, k := p.Lookup(model)
		if k != key {
			t.Errorf("%s matched %q, want %q", model, k, key)
		}
		if key == "" && pr != DefaultPrice {
			t.Errorf("%s: unknown model priced %v", model, pr)
		}
	}
	dir := t.TempDir()
	write := func(s string) string {
		f, _ := os.CreateTemp(dir, "p*.json")
		f.WriteString(s)
		f.Close()
		return f.Name()
	}
	good, err := LoadPrices(write(`{"default": {"input": 1, "output": 2}, "My-Model": {"input": 3, "output": 4}}`))
	if err != nil {
		t.Fatal(err)
	}
	if pr, k := good.Lookup("my-model-v2"); k != "my-model" || pr.Input != 3 {
		t.Fatalf("custom %v %q", pr, k)
	}
	if pr, _ := good.Lookup("nothing"); pr != (Price{1, 2}) {
		t.Fatalf("default %v", pr)
	}
	for _, bad := range []string{`[]`, `{"m": 3}`, `{"m": {"input": -1, "output": 1}}`, `{"m": {"inptu": 1}}`, `not json`, `{"": {"input": 1, "output": 1}}`} {
		if _, err := LoadPrices(write(bad)); exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := LoadPrices(filepath.Join(dir, "missing.json")); exit.Code(err) != exit.BadInput {
		t.Error("missing price file accepted")
	}
}

// An audit bundle (.tar.gz) is diffed like its pack, as verify-pack
// accepts it; the result names the bundle, not the temp extraction, and
// nothing extracted is left behind. A tampered bundle is refused like a
// tampered pack is.
func TestCompareAcceptsBundles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	swap := packstest.DiffFixture(t, dir, "model_swap")
	bundlePath := filepath.Join(dir, "swap.tar.gz")
	if _, err := bundle.Create(swap, bundlePath); err != nil {
		t.Fatal(err)
	}
	tmpBefore, _ := filepath.Glob(filepath.Join(os.TempDir(), "assay-bundle-*"))
	r, err := Compare(base, bundlePath, Options{Gates: allGates})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := Compare(base, swap, Options{Gates: allGates})
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != direct.ExitCode || r.Status != direct.Status || r.CostDeltaUSD != direct.CostDeltaUSD || !r.Verified {
		t.Fatalf("bundle diff %s/%d, pack diff %s/%d", r.Status, r.ExitCode, direct.Status, direct.ExitCode)
	}
	if r.B.Path != bundlePath || r.Preflight[1].Path != bundlePath {
		t.Fatalf("paths in the result: %q %q", r.B.Path, r.Preflight[1].Path)
	}
	if tmpAfter, _ := filepath.Glob(filepath.Join(os.TempDir(), "assay-bundle-*")); len(tmpAfter) != len(tmpBefore) {
		t.Fatalf("extraction left behind: %v", tmpAfter)
	}
	// A bundle whose receipts were changed after bundling: exit 2.
	badBundle := filepath.Join(dir, "bad.tar.gz")
	if err := tamperBundle(bundlePath, badBundle); err != nil {
		t.Fatal(err)
	}
	if r, err := Compare(base, badBundle, Options{}); err != nil || r.ExitCode != exit.Tampered {
		t.Fatalf("tampered bundle: %v %+v", err, r)
	}
}

// tamperBundle copies a bundle, changing the last byte of the first
// receipt_pack.jsonl entry before the final newline.
func tamperBundle(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if strings.HasSuffix(h.Name, "receipt_pack.jsonl") && len(body) > 2 {
			body[len(body)-2] ^= 1
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
