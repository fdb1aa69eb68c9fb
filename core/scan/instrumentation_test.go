package scan

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	openaiCall = "from openai import OpenAI\n\ndef ask():\n    return OpenAI().chat.completions.create(model='m', messages=[])\n"
	shimStub   = "# assay:capture-shim\n"
)

// byPath indexes a scan's findings by slash path.
func byPath(res *Result) map[string]Finding {
	out := map[string]Finding{}
	for _, f := range res.Findings {
		out[filepath.ToSlash(f.Path)] = f
	}
	return out
}

// An entrypoint that imports the capture shim instruments the openai,
// anthropic, google and litellm call sites of its whole Python project,
// but not test code, not another project, not LangChain (whose calls the
// shim sees from inside the library) and not without the shim beside it.
func TestShimInstrumentsItsProject(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"app/main.py":          "import assay_capture  # assay:patched\nfrom app.worker import ask\nif __name__ == '__main__':\n    ask()\n",
		"app/assay_capture.py": shimStub,
		"app/worker.py":        openaiCall,
		"lib/claude.py":        "import anthropic\nanthropic.Anthropic().messages.create(model='m', max_tokens=1, messages=[])\n",
		"lib/chain.py":         "from langchain_openai import ChatOpenAI\nllm = ChatOpenAI()\nllm.invoke('hi')\n",
		"tests/test_worker.py": openaiCall,
		"other/pyproject.toml": "[project]\nname = 'other'\n",
		"other/svc.py":         openaiCall,
		"nosim/main.py":        "import assay_capture  # assay:patched\n",
		"nosim/pyproject.toml": "[project]\nname = 'nosim'\n",
		"nosim/call.py":        openaiCall,
	})
	res, err := Scan(dir, Options{NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	got := byPath(res)
	for path, want := range map[string]bool{
		"app/worker.py":        true,  // same project as the patched entrypoint
		"lib/claude.py":        true,  // anthropic is wrapped too
		"lib/chain.py":         false, // LangChain: not attributed by the shim
		"tests/test_worker.py": false, // a test runner does not start at main.py
		"other/svc.py":         false, // another project (its own pyproject.toml)
		"nosim/call.py":        false, // the import names a shim that is not there
	} {
		f, ok := got[path]
		if !ok {
			t.Errorf("%s: no finding; findings %+v", path, res.Findings)
			continue
		}
		if f.Instrumented != want {
			t.Errorf("%s: instrumented = %v, want %v", path, f.Instrumented, want)
		}
		if f.Instrumented && f.Fix != "" {
			t.Errorf("%s: instrumented but fix %q", path, f.Fix)
		}
	}
}

// Fix texts and next steps name the reference's package only in a project
// that already uses it; otherwise they name this tool's commands.
func TestFixTextsFollowThePackageInUse(t *testing.T) {
	t.Parallel()
	plain := writeTree(t, map[string]string{"app.py": openaiCall, "chain.py": "from langchain_openai import ChatOpenAI\nChatOpenAI().invoke('x')\n"})
	res, err := Scan(plain, Options{NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.UsesReferencePackage {
		t.Fatal("a tree without emit_receipt or assay.integrations uses the reference's package?")
	}
	got := byPath(res)
	if got["app.py"].Fix != FixPatch || got["chain.py"].Fix != FixGateway {
		t.Errorf("fixes %q / %q", got["app.py"].Fix, got["chain.py"].Fix)
	}
	doc := *NextCommand(res.NextSteps())
	if strings.Contains(doc, "assay.integrations") || strings.Contains(doc, "emit_receipt") || !strings.Contains(doc, "assay patch .") || !strings.Contains(doc, VerifyLatest) {
		t.Errorf("next steps:\n%s", doc)
	}

	// Only LangChain: the gateway records its provider calls without code.
	lc := writeTree(t, map[string]string{"chain.py": "from langchain_openai import ChatOpenAI\nChatOpenAI().invoke('x')\n"})
	if res, err = Scan(lc, Options{NoGo: true}); err != nil {
		t.Fatal(err)
	}
	if doc := *NextCommand(res.NextSteps()); !strings.Contains(doc, gatewayRun) || strings.Contains(doc, "AssayCallbackHandler") {
		t.Errorf("LangChain next steps:\n%s", doc)
	}

	// A file elsewhere in the tree uses the reference's package (with no
	// call site of its own): its texts apply, as the reference gives them.
	ref := writeTree(t, map[string]string{"app.py": openaiCall, "util/receipts.py": "from assay import emit_receipt\n"})
	if res, err = Scan(ref, Options{NoGo: true}); err != nil {
		t.Fatal(err)
	}
	if !res.UsesReferencePackage || byPath(res)["app.py"].Fix != FixOpenAI {
		t.Errorf("reference tree: uses=%v fix %q", res.UsesReferencePackage, byPath(res)["app.py"].Fix)
	}
}

// Findings in test code are marked, counted apart, and left out (with a
// count) by ExcludeTests, in the document, contract and report alike.
func TestTestCodeCountedApart(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"app.py":                   openaiCall,
		"tests/test_app.py":        openaiCall,
		"pkg/test_helpers.py":      openaiCall,
		"web/__tests__/chat.ts":    "import OpenAI from 'openai';\nconst c = new OpenAI();\nawait c.responses.create({ model: 'm', input: 'i' });\n",
		"web/src/chat.ts":          "import OpenAI from 'openai';\nconst c = new OpenAI();\nawait c.responses.create({ model: 'm', input: 'i' });\n",
		"svc/client_test.go":       "package svc\n\nimport (\n\t\"context\"\n\n\t\"github.com/openai/openai-go\"\n)\n\nfunc f() {\n\tc := openai.NewClient()\n\tc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{})\n}\n",
		"svc/go.mod":               "module svc\n",
		"notatest/attestation.py":  openaiCall,
		"contest/test_data_gen.py": openaiCall, // test_ prefix: the reference's rule
	})
	res, err := Scan(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantTest := map[string]bool{
		"app.py": false, "tests/test_app.py": true, "pkg/test_helpers.py": true, "web/__tests__/chat.ts": true,
		"web/src/chat.ts": false, "svc/client_test.go": true, "notatest/attestation.py": false, "contest/test_data_gen.py": true,
	}
	got := byPath(res)
	for p, w := range wantTest {
		if f, ok := got[p]; !ok || f.InTestPath != w {
			t.Errorf("%s: found %v, in_test_path %v, want %v", p, ok, f.InTestPath, w)
		}
	}
	tc := res.TestCode()
	if tc == nil || tc.SitesTotal != 5 || tc.Uninstrumented != 5 || tc.Excluded {
		t.Fatalf("test code %+v; findings %+v", tc, res.Findings)
	}
	rep := BuildReport(res, ReportMeta{})
	if rep.Summary.TestTotal != 5 || rep.Summary.ProdTotal != 3 {
		t.Errorf("report split prod %d / test %d", rep.Summary.ProdTotal, rep.Summary.TestTotal)
	}

	ex, err := Scan(dir, Options{ExcludeTests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Findings) != 3 || ex.ExcludedTests != 5 {
		t.Fatalf("excluded: %d findings, %d left out", len(ex.Findings), ex.ExcludedTests)
	}
	for _, f := range ex.Findings {
		if f.InTestPath {
			t.Errorf("%s kept", f.Path)
		}
	}
	if c, _ := ex.Contract(ContractOptions{}, time.Unix(0, 0)); len(c.CallSites) != 3 {
		t.Errorf("contract has %d sites", len(c.CallSites))
	}
	if d := ex.Document("ok"); d.TestCode == nil || !d.TestCode.Excluded || d.TestCode.SitesTotal != 5 {
		t.Errorf("document test_code %+v", d.TestCode)
	}
	page, err := BuildReport(ex, ReportMeta{}).HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `id="test-detail">5 left out (--exclude-tests)`) {
		t.Error("the HTML report does not say the test findings were left out")
	}
}
