package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/store"
)

// goModule copies the sample Go program (real openai-go, anthropic-sdk-go
// and genai clients) to a scratch directory inside this module
// (testdata/scan/patch/_work, git-ignored), so it builds against this
// repository's go.mod and the local module cache, with no network.
func goModule(t *testing.T) string {
	t.Helper()
	work := filepath.Join(patchData, "_work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(work, "goapp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src, err := os.ReadFile(filepath.Join(patchData, "goapp", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOFLAGS", "-mod=readonly")
	t.Setenv("GOPROXY", "off")
	return dir
}

// assay patch on a Go program: every SDK constructor gets the capture
// middleware (comments kept, gofmt'd, go build checked), the scan then
// reports every call instrumented, the program run against the synthetic
// LLM server writes one receipt per call whose callsite_id is the
// contract's id for that line, and --undo restores the bytes.
func TestPatchGoProgram(t *testing.T) {
	dir := goModule(t)
	before := snapshot(t, dir)
	code, out, errs := ckRun(t, "patch", dir, "--yes")
	if code != 0 {
		t.Fatalf("patch: exit %d\n%s%s", code, out, errs)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	for _, want := range []string{
		"oa := openai.NewClient(option.WithHTTPClient(assayHTTPClient()))",
		"an := anthropic.NewClient(anthropicoption.WithHTTPClient(assayHTTPClient())) // ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY",
		"\t\tHTTPClient:  assayHTTPClient(),\n\t})",
		"// The OpenAI client reads OPENAI_BASE_URL and OPENAI_API_KEY.",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("patched main.go lacks %q:\n%s", want, src)
		}
	}
	if code, out, _ := ckRun(t, "patch", dir, "--yes"); code != 0 || !strings.Contains(out, "nothing to patch") {
		t.Errorf("second patch: exit %d %s", code, out)
	}
	contract := filepath.Join(t.TempDir(), "c.json")
	if code, _, errs := ckRun(t, "scan", dir, "--emit-contract", contract, "--json"); code != 0 {
		t.Fatal(errs)
	}
	c, err := coverage.Load(contract)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CallSites) != 3 {
		t.Fatalf("contract sites: %+v", c.CallSites)
	}
	for _, s := range c.CallSites {
		if !s.Instrumented {
			t.Errorf("%s:%d (%s) not instrumented after patch", s.Path, s.Line, s.Call)
		}
	}

	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build patched program: %v\n%s", err, b)
	}
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	home := t.TempDir()
	run := exec.Command(bin)
	run.Dir = dir
	run.Env = append(os.Environ(), append(srv.Env(), "ASSAY_HOME="+home, "ASSAY_TRACE_ID=trace_goapp")...)
	var o, e bytes.Buffer
	run.Stdout, run.Stderr = &o, &e
	if err := run.Run(); err != nil {
		t.Fatalf("patched program: %v\n%s%s", err, o.String(), e.String())
	}
	rs, _, err := store.Open(home).Read("trace_goapp")
	if err != nil || len(rs) != 3 {
		t.Fatalf("receipts: %d %v", len(rs), err)
	}
	rep := coverage.Measure(c, coverage.ReceiptIDs(rs))
	if rep.CoveredCount != 3 || len(rep.ExtraIDs) != 0 {
		t.Errorf("coverage: %+v", rep)
	}
	var providers []string
	for _, r := range rs {
		providers = append(providers, r.String("provider"))
	}
	slices.Sort(providers)
	if !slices.Equal(providers, []string{"anthropic", "google", "openai"}) {
		t.Errorf("providers %v", providers)
	}

	if code, _, errs := ckRun(t, "patch", dir, "--undo"); code != 0 {
		t.Fatalf("undo: %s", errs)
	}
	if after := snapshot(t, dir); !mapsEqual(after, before) {
		t.Errorf("undo did not restore the exact bytes: %v", ptKeys(after))
	}
}
