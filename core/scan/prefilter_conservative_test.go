package scan

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scanBoth scans dir with the byte prefilters and with every file parsed,
// and fails unless both find the same sites and the same instrumentation.
// It returns the findings.
func scanBoth(t *testing.T, dir string, opt Options) []Finding {
	t.Helper()
	fast, err := Scan(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.parseAll = true
	full, err := Scan(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast.Findings, full.Findings) || fast.UsesReferencePackage != full.UsesReferencePackage {
		t.Errorf("%s: the prefilter changes the result:\n with: %+v\n all parsed: %+v", dir, fast.Findings, full.Findings)
	}
	return full.Findings
}

// TestPrefilterDropsNoFinding: on every corpus and on a file per rule in
// each form the parsers accept (aliases, from-imports with as, attribute
// chains through subscripts, parentheses, comments and continuations;
// require, dynamic and re-exported imports in TS/JS; Go imports), a scan
// that skips files by their bytes finds exactly what a scan that parses
// every file finds.
func TestPrefilterDropsNoFinding(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"../../testdata/scan", filepath.Join(refDir, "tree")} {
		if fs := scanBoth(t, dir, Options{}); len(fs) == 0 {
			t.Errorf("%s: no findings", dir)
		}
	}
	py := []string{
		"from openai import OpenAI as O\nO().chat.completions.create(model='m')\n",
		"import openai as oa\nc = oa.OpenAI()\nc.chat.completions.create()\n",
		"c.chat . completions .\\\n  create()\n",
		"(c.chat.completions  # why\n  .create())\n",
		"c.messages[k](x)\nc.messages[0].create()\n",
		"(c.responses).create()\n",
		"(c.messages\n\n  # a\n  .create())\n",
		"c.beta.threads.messages.create_and_poll()\n",
		"c.chat_completions.create()\n",
		"from google import genai as g\ng.Client().models.generate_content(model='m')\n",
		"import google.generativeai as gg\ngg.GenerativeModel('m').generate_content_async('q')\n",
		"from langchain_openai import ChatOpenAI as C\nC(model='m')\nChatOpenAI(model='m')\n",
		"from langchain_anthropic import ChatAnthropic\nm = ChatAnthropic()\n",
		"import litellm as L\nlitellm.completion(model='m')\nlitellm . acompletion()\n",
		"from litellm import completion as c\nc(model='m')\nlitellm.completion_cost()\n",
		"from langchain_core.runnables import R as X\nchain.invoke({})\nawait chain . ainvoke({})\n",
		"import llama_index.core as li\nllm.predict('q')\nself.llm.apredict('q')\n",
		"from langgraph.graph import StateGraph\ng.compile().invoke({})\n",
		"import google . generativeai\nx.invoke()\n",
		"def Call_LLM(): pass\nCall_LLM()\nx.ASK_LLM()\nself.run_model()\n",
		"x = 'c.messages.create()'  # c.messages.create()\n",
		"from assay.integrations.openai import patch\nclient.chat.completions.create()\n",
		"import assay_capture\n",
	}
	ts := map[string]string{
		"a.ts":         "import OpenAI from 'openai';\nconst c = new OpenAI();\nawait c.chat.completions.create({model: 'm'});\n",
		"b.js":         "const A = require(\"@anthropic-ai/sdk\");\nconst c = new A();\nc.messages.create({});\n",
		"c.ts":         "import * as G from '@google/genai';\nconst ai = new G.GoogleGenAI({});\nai.models.generateContent({});\n",
		"d.ts":         "import { generateText as g } from 'ai';\nawait g({model, prompt});\n",
		"e.mjs":        "const { default: OpenAI } = await import('openai');\nnew OpenAI().responses.create({});\n",
		"sdk/index.ts": "export * from 'openai';\nexport { default } from 'openai';\n",
		"f.ts":         "import OpenAI from './sdk';\nnew OpenAI().chat.completions.create({});\n",
	}
	goSrc := "package p\n\nimport (\n\toa \"github.com/openai/openai-go\"\n)\n\nfunc f(c oa.Client) { c.Chat.Completions.New(nil, oa.ChatCompletionNewParams{}) }\n"
	dir := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, src := range py {
		// As is, beside a guard import, and with CRLF line ends.
		write(fmt.Sprintf("py/plain/m%02d.py", i), src)
		write(fmt.Sprintf("py/guard/m%02d.py", i), "import langchain\n"+src)
		write(fmt.Sprintf("py/crlf/m%02d.py", i), strings.ReplaceAll(src, "\n", "\r\n"))
	}
	for name, src := range ts {
		write(filepath.Join("ts", name), src)
	}
	write("ts/package.json", `{"name":"x"}`)
	write("go/p.go", goSrc)
	// The import path spelled with an escape, and a package whose SDK
	// import is in another file than its calls.
	write("go/esc/e.go", strings.Replace(goSrc, "github.com/openai", `github.com\x2fopenai`, 1))
	write("go/split/a.go", "package p\n\nimport oa \"github.com/openai/openai-go\"\n\nvar C = oa.NewClient()\n")
	write("go/split/b.go", "package p\n\nfunc f() { C.Chat.Completions.New(nil, nil) }\n")
	write("go/none/n.go", "package p\n\nimport \"fmt\"\n\nfunc f(c x) { c.Chat.Completions.New(nil, nil); fmt.Println() }\n")
	got, goSites := map[string]bool{}, map[string]bool{}
	for _, f := range scanBoth(t, dir, Options{}) {
		got[f.Lang] = true
		if f.Lang == "go" {
			goSites[filepath.ToSlash(f.Path)] = true
		}
	}
	for _, p := range []string{"go/p.go", "go/esc/e.go", "go/split/b.go"} {
		if !goSites[p] {
			t.Errorf("no Go finding in %s (found %v)", p, goSites)
		}
	}
	for _, lang := range []string{"python", "typescript", "go"} {
		if !got[lang] {
			t.Errorf("no %s finding in the generated tree: the test checks nothing there", lang)
		}
	}
}

// TestPrefilterProperty: on generated token soups built from the rules'
// words, dots, brackets, comments, strings, continuations and line ends,
// every source the Python prefilter drops parses (if it parses) to no
// finding, with or without a framework-guard import.
func TestPrefilterProperty(t *testing.T) {
	t.Parallel()
	toks := []string{"c", "x", "self", "chat", "completions", "chat_completions", "responses", "messages", "create",
		"created", "recreate", "litellm", "completion", "acompletion", "llm", "predict", "apredict", "invoke",
		"ainvoke", "generate_content", "ChatOpenAI", "call_llm", "Ask_LLM", "messagesx", "Create", "import",
		"from", "as", "langchain", "google", "generativeai", ".", ".", ".", " ", " ", "\t", "\\\n", "\n", "\r\n",
		"(", ")", "[", "]", "[0]", "()", "# c\n", "'s'", "\"messages.create\"", ",", "=", ":", "\u00a0", "\u3000",
		"\f", "\u0130", "\u212a"}
	r := rand.New(rand.NewPCG(15, 2))
	checked := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := 2 + r.IntN(14); n > 0; n-- {
			b.WriteString(toks[r.IntN(len(toks))])
		}
		src := []byte(b.String())
		mustPass(t, src, b.String())
		if !mayHaveFindings(src) {
			checked++
		}
	}
	if checked < 1000 {
		t.Errorf("only %d sources dropped by the prefilter: the generator tests too little", checked)
	}
}
