package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/packs/packstest"
)

// oneLineErr asserts stderr is exactly one "assay: ..." line.
func oneLineErr(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "assay: ") || strings.Contains(stderr, "goroutine") {
		t.Errorf("stderr is not one clear line: %q", stderr)
	}
}

var gateArgs = []string{"--gate-cost-pct", "25", "--gate-p95-pct", "25", "--gate-errors", "0"}

func TestDiffCLIFixtures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	for _, c := range []struct {
		variant, status, failedGate string
		code                        int
	}{
		{"same", "ok", "", 0},
		{"model_swap", "gate_failed", "cost_pct", 1},
		{"cost_up", "gate_failed", "cost_pct", 1},
		{"latency_up", "gate_failed", "p95_pct", 1},
		{"claim_regression", "regression", "", 1},
		{"errors", "gate_failed", "errors", 1},
	} {
		b := packstest.DiffFixture(t, dir, c.variant)
		// Text mode.
		code, out, errs := ckRun(t, append([]string{"diff", base, b}, gateArgs...)...)
		if code != c.code || errs != "" {
			t.Fatalf("%s: exit %d, stderr %q\n%s", c.variant, code, errs, out)
		}
		if !strings.Contains(out, "exit "+string(rune('0'+c.code))) {
			t.Errorf("%s: text output lacks the exit line:\n%s", c.variant, out)
		}
		// JSON mode: same exit code, one JSON document.
		code, out, _ = ckRun(t, append([]string{"diff", base, b, "--json"}, gateArgs...)...)
		var r struct {
			Status   string `json:"status"`
			ExitCode int    `json:"exit_code"`
			Gates    []struct {
				Name   string `json:"name"`
				Passed bool   `json:"passed"`
			} `json:"gates"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: --json output is not one JSON document: %v\n%s", c.variant, err, out)
		}
		if code != c.code || r.ExitCode != c.code || r.Status != c.status {
			t.Fatalf("%s: exit %d, json %+v", c.variant, code, r)
		}
		for _, g := range r.Gates {
			if g.Passed == (g.Name == c.failedGate) {
				t.Errorf("%s: gate %s passed=%v", c.variant, g.Name, g.Passed)
			}
		}
	}
}

func TestDiffCLIIntegrityAndFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	same := packstest.DiffFixture(t, dir, "same")
	bad := filepath.Join(t.TempDir(), "proof_pack_bad")
	packstest.Copy(t, same, bad)
	packstest.FlipByte(t, filepath.Join(bad, "pack_signature.sig"), 3)

	// Integrity failure: exit 2 in text and JSON mode alike (DECISIONS 6).
	code, out, _ := ckRun(t, "diff", base, bad)
	if code != 2 || !strings.Contains(out, "INTEGRITY FAILED") {
		t.Fatalf("text: exit %d\n%s", code, out)
	}
	code, out, _ = ckRun(t, "diff", base, bad, "--json")
	var r map[string]any
	if json.Unmarshal([]byte(out), &r) != nil || code != 2 || r["status"] != "integrity_failed" || r["exit_code"] != float64(2) {
		t.Fatalf("json: exit %d %v", code, r)
	}
	// --no-verify compares anyway.
	if code, out, _ = ckRun(t, "diff", base, bad, "--no-verify"); code != 0 {
		t.Fatalf("--no-verify: exit %d\n%s", code, out)
	}
	// Bad input: exit 3 and one line on stderr, nothing on stdout.
	prices := filepath.Join(dir, "bad_prices.json")
	os.WriteFile(prices, []byte(`{"gpt-4o": 3}`), 0o644)
	for name, args := range map[string][]string{
		"one pack":         {"diff", base},
		"three packs":      {"diff", base, same, base},
		"missing pack":     {"diff", base, filepath.Join(dir, "nope")},
		"not a pack":       {"diff", base, t.TempDir()},
		"both modes":       {"diff", base, same, "--against-previous"},
		"bad report ext":   {"diff", base, same, "--report", filepath.Join(dir, "r.txt")},
		"bad prices":       {"diff", base, same, "--prices", prices},
		"missing prices":   {"diff", base, same, "--prices", filepath.Join(dir, "none.json")},
		"negative errors":  {"diff", base, same, "--gate-errors", "-1"},
		"non-numeric gate": {"diff", base, same, "--gate-cost-pct", "lots"},
		"json still 3":     {"diff", base, t.TempDir(), "--json"},
		"report in dir":    {"diff", base, same, "--report", filepath.Join(dir, "no", "such", "r.html")},
	} {
		code, out, errs := ckRun(t, args...)
		if name == "json still 3" {
			// --json promises one document on stdout, bad input included.
			var doc struct {
				Status   string `json:"status"`
				ExitCode int    `json:"exit_code"`
			}
			if code != 3 || json.Unmarshal([]byte(out), &doc) != nil || doc.Status != "error" || doc.ExitCode != 3 {
				t.Errorf("%s: exit %d stdout %q", name, code, out)
			}
		} else if code != 3 || out != "" {
			t.Errorf("%s: exit %d stdout %q", name, code, out)
		}
		oneLineErr(t, errs)
	}
}

func TestDiffAgainstPreviousAndBaseline(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	swap := packstest.DiffFixture(t, dir, "model_swap")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(base, old, old)

	// No baseline: the newest other proof_pack* sibling (base) is used.
	code, out, errs := ckRun(t, "diff", swap, "--against-previous", "--json", "--gate-cost-pct", "25")
	var r struct {
		A struct{ Path string } `json:"a"`
		B struct{ Path string } `json:"b"`
	}
	json.Unmarshal([]byte(out), &r)
	if code != 1 || r.A.Path != base || r.B.Path != swap {
		t.Fatalf("against previous: exit %d %q %+v", code, errs, r)
	}
	// With a baseline set, it wins.
	same := packstest.DiffFixture(t, dir, "same")
	if code, _, errs := ckRun(t, "baseline", "set", same); code != 0 {
		t.Fatalf("baseline set: %d %s", code, errs)
	}
	code, out, _ = ckRun(t, "baseline", "get")
	if code != 0 || strings.TrimSpace(out) != same {
		t.Fatalf("baseline get: %d %q", code, out)
	}
	code, out, _ = ckRun(t, "diff", swap, "--against-previous", "--json")
	json.Unmarshal([]byte(out), &r)
	if r.A.Path != same {
		t.Fatalf("baseline not used: %+v", r)
	}
	// A lone pack with no baseline and no sibling is bad input.
	os.Remove(filepath.Join(work, ".assay", "baseline.json"))
	lone := filepath.Join(t.TempDir(), "proof_pack_lone")
	packstest.Copy(t, base, lone)
	code, out, errs = ckRun(t, "diff", lone, "--against-previous")
	if code != 3 || out != "" || !strings.Contains(errs, "no baseline") {
		t.Fatalf("lone: %d %q %q", code, out, errs)
	}
	oneLineErr(t, errs)
}

func TestDiffReports(t *testing.T) {
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	reg := packstest.DiffFixture(t, dir, "claim_regression")
	jr := filepath.Join(dir, "diff.json")
	hr := filepath.Join(dir, "diff.html")
	code, out, _ := ckRun(t, "diff", base, reg, "--why", "--report", jr)
	if code != 1 || !strings.Contains(out, "r_guardian0001") || !strings.Contains(out, "REGRESSED") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var r map[string]any
	raw, _ := os.ReadFile(jr)
	if json.Unmarshal(raw, &r) != nil || r["status"] != "regression" || r["why"] == nil {
		t.Fatalf("json report %s", raw)
	}
	if code, _, _ = ckRun(t, "diff", base, reg, "--why", "--report", hr, "--gate-cost-pct", "1000"); code != 1 {
		t.Fatalf("html: exit %d", code)
	}
	raw, _ = os.ReadFile(hr)
	html := string(raw)
	for _, bad := range []string{"http://", "https://", "<script", "<link", " src="} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML report is not self-contained: contains %q", bad)
		}
	}
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Debian chromium is required at %s (scripts/setup.d/20-chromium.sh installs it): %v", chromium, err)
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+hr)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, e.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("chromium timed out")
	}
	dom := o.String()
	if m := regexp.MustCompile(`id="status"[^>]*>([^<]*)<`).FindStringSubmatch(dom); m == nil || m[1] != "regression (exit 1)" {
		t.Fatalf("rendered status %v", m)
	}
	for _, want := range []string{`class="regressed">regressed<`, "no_guardian_block", "r_guardian0001", "mcr_0000000000000000", `class="passed">passed<`} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	// Receipt content is escaped, never markup.
	if strings.Contains(dom, "<script") {
		t.Error("script in the rendered report")
	}
}
