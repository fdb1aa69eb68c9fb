package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/patch"
	"github.com/assay-dev/assay/core/store"
)

// packReceipts reads a pack's receipts.
func packReceipts(t *testing.T, pack string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(pack, "receipt_pack.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("receipt line: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// The TypeScript round trip: a TS app using openai, @anthropic-ai/sdk,
// @google/genai and ai (installed from npm by scripts/setup.d/30) is
// scanned, patched (tsc --noEmit still passes), its contract emitted, run
// under `assay run` against the synthetic LLM server, and `verify-pack
// --coverage-contract` reports exactly the covered sites and the one
// never-run site. The receipts carry the same content hashes as the
// gateway's for the same calls. Removing one call's instrumentation
// lowers coverage by exactly that site; --undo restores the bytes.
func TestNodePatchContractRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is required (scripts/setup.d/30-npm-js-sdks.sh installs it): %v", err)
	}
	js, _ := filepath.Abs("../../testdata/js")
	for _, pkg := range []string{"openai", "@anthropic-ai/sdk", "@google/genai", "ai", "@ai-sdk/openai", "tsx", "typescript"} {
		if _, err := os.Stat(filepath.Join(js, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s is not installed in testdata/js/node_modules: run scripts/setup.d/30-npm-js-sdks.sh", pkg)
		}
	}
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv(store.EnvHome, t.TempDir())
	t.Setenv(store.EnvTrace, "")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("ASSAY_CAPTURE_SKIP", "")
	t.Setenv("ASSAY_GATEWAY", "")

	newApp := func() string {
		app := copyTree(t, filepath.Join(js, "tsapp"))
		if err := os.Symlink(filepath.Join(js, "node_modules"), filepath.Join(app, "node_modules")); err != nil {
			t.Fatal(err)
		}
		return app
	}
	app := newApp()
	entry := filepath.Join(app, "src", "app.ts")
	orig, _ := os.ReadFile(entry)

	// Scan before patching: 9 TS sites, none instrumented.
	code, o, e := ckRun(t, "scan", app, "--json")
	var doc struct {
		Summary struct {
			SitesTotal     int `json:"sites_total"`
			Uninstrumented int `json:"uninstrumented"`
		} `json:"summary"`
	}
	if code != 0 || json.Unmarshal([]byte(o), &doc) != nil || doc.Summary.SitesTotal != 9 || doc.Summary.Uninstrumented != 9 {
		t.Fatalf("scan before patch: exit %d %+v\n%s%s", code, doc, o, e)
	}

	// Dry run changes nothing; the patch checks with tsc and is idempotent.
	if code, o, e := ckRun(t, "patch", app, "--dry-run"); code != 0 || !strings.Contains(o, "+import './assay_capture.mjs'; // assay:patched") {
		t.Fatalf("dry run: %d\n%s%s", code, o, e)
	}
	if b, _ := os.ReadFile(entry); string(b) != string(orig) {
		t.Fatal("dry run changed the entrypoint")
	}
	if code, o, e := ckRun(t, "patch", app, "--yes"); code != 0 {
		t.Fatalf("patch: %d\n%s%s", code, o, e)
	}
	patched, _ := os.ReadFile(entry)
	if !strings.HasPrefix(string(patched), "import './assay_capture.mjs'; // assay:patched\n") || !strings.HasSuffix(string(patched), string(orig)) {
		t.Fatalf("patched entrypoint:\n%s", patched)
	}
	for _, f := range []string{patch.NodeModuleCJS, patch.NodeModuleESM} {
		if _, err := os.Stat(filepath.Join(app, "src", f)); err != nil {
			t.Fatalf("capture module %s not written: %v", f, err)
		}
	}
	if code, o, e := ckRun(t, "patch", app, "--yes", "--json"); code != 0 || !strings.Contains(o, `"status": "nothing_to_do"`) {
		t.Fatalf("second patch is not a no-op: %d\n%s%s", code, o, e)
	}

	contract := filepath.Join(app, "assay.coverage.json")
	if code, o, e := ckRun(t, "scan", app, "--emit-contract", contract); code != 0 || !strings.Contains(o, "(9 site(s)") || !strings.Contains(o, "9 of 9 call sites instrumented") {
		t.Fatalf("scan after patch: %d\n%s%s", code, o, e)
	}
	c, err := coverage.Load(contract)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	var all []string
	for _, s := range c.CallSites {
		ids[filepath.ToSlash(s.Path)+":"+itoa(s.Line)] = s.CallsiteID
		all = append(all, s.CallsiteID)
	}
	embed := ids["src/llm.ts:32"]
	anthropicCreate := ids["src/llm.ts:12"]
	if embed == "" || anthropicCreate == "" || ids["src/summary.ts:7"] == "" {
		t.Fatalf("contract sites: %v", ids)
	}
	var ran []string
	for _, id := range all {
		if id != embed {
			ran = append(ran, id)
		}
	}
	slices.Sort(ran)

	t.Chdir(app)
	out := t.TempDir()
	type covDoc struct {
		Coverage struct {
			CoveredIDs   []string `json:"covered_ids"`
			UncoveredIDs []string `json:"uncovered_ids"`
			ExtraIDs     []string `json:"extra_ids"`
			CoveredCount int      `json:"covered_count"`
			TotalCount   int      `json:"total_count"`
		} `json:"coverage"`
	}
	runApp := func(name string, extra ...string) string {
		pack := filepath.Join(out, name)
		args := append([]string{"run", "-o", pack}, extra...)
		args = append(args, "--", filepath.Join("node_modules", ".bin", "tsx"), filepath.Join("src", "app.ts"))
		if code, o, e := ckRun(t, args...); code != 0 {
			t.Fatalf("assay run %s: exit %d\n%s%s", name, code, o, e)
		}
		return pack
	}
	verify := func(pack string) covDoc {
		_, o, e := ckRun(t, "verify-pack", pack, "--coverage-contract", contract, "--min-coverage", "0.5", "--json")
		var d covDoc
		if err := json.Unmarshal([]byte(o), &d); err != nil {
			t.Fatalf("verify-pack --json: %v\n%s%s", err, o, e)
		}
		return d
	}

	full := runApp("full")
	d := verify(full)
	if !slices.Equal(d.Coverage.CoveredIDs, ran) || !slices.Equal(d.Coverage.UncoveredIDs, []string{embed}) || len(d.Coverage.ExtraIDs) != 0 || d.Coverage.CoveredCount != 8 || d.Coverage.TotalCount != 9 {
		t.Fatalf("full run coverage: %+v\nwant covered %v, uncovered [%s]", d.Coverage, ran, embed)
	}
	recs := packReceipts(t, full)
	for _, r := range recs {
		if r["type"] != "model_call" || r["integration_source"] != "assay.shim.node" || r["content_hash_alg"] != "sha256-jcs-v1" || r["input_hash"] == nil || r["output_hash"] == nil || r["usage_source"] != "provider" {
			t.Errorf("receipt %v", r)
		}
	}

	// Same calls through the recording gateway, unpatched: the receipts
	// carry the same hashes, tokens and finish reasons.
	gwApp := newApp()
	t.Chdir(gwApp)
	gw := runApp("gateway", "--gateway")
	t.Chdir(app)
	key := func(rs []map[string]any) []string {
		var ks []string
		for _, r := range rs {
			b, _ := json.Marshal([]any{r["provider"], r["api"], r["stream"], r["model_id"], r["input_hash"], r["output_hash"], r["input_tokens"], r["output_tokens"], r["total_tokens"], r["finish_reason"], r["message_count"]})
			ks = append(ks, string(b))
		}
		slices.Sort(ks)
		return ks
	}
	if a, b := key(recs), key(packReceipts(t, gw)); !slices.Equal(a, b) {
		t.Errorf("capture module and gateway receipts differ:\n module  %v\n gateway %v", a, b)
	}

	// Remove one call's instrumentation: coverage drops by exactly that site.
	t.Setenv("ASSAY_CAPTURE_SKIP", "src/llm.ts:12")
	d = verify(runApp("partial"))
	var want []string
	for _, id := range ran {
		if id != anthropicCreate {
			want = append(want, id)
		}
	}
	unc := []string{embed, anthropicCreate}
	slices.Sort(unc)
	if !slices.Equal(d.Coverage.CoveredIDs, want) || !slices.Equal(d.Coverage.UncoveredIDs, unc) || d.Coverage.CoveredCount != 7 {
		t.Errorf("partial coverage: %+v", d.Coverage)
	}

	// Undo restores the entrypoint byte for byte and removes the module.
	if code, o, e := ckRun(t, "patch", app, "--undo"); code != 0 {
		t.Fatalf("undo: %d\n%s%s", code, o, e)
	}
	if b, _ := os.ReadFile(entry); string(b) != string(orig) {
		t.Errorf("undo did not restore the bytes:\n%s", b)
	}
	for _, f := range []string{patch.NodeModuleCJS, patch.NodeModuleESM, "app.ts" + patch.BackupExt} {
		if _, err := os.Stat(filepath.Join(app, "src", f)); err == nil {
			t.Errorf("%s left behind after undo", f)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
