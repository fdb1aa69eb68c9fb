package typescript

import (
	"path"
	"strings"
)

// Confidence tiers (the words the Python rules use).
const (
	High   = "high"
	Medium = "medium"
	Low    = "low"
)

// Source is one parsed file of the project.
type Source struct {
	Path string // root-relative, OS separator
	File *File
	// Pkg is the directory of the nearest package.json (root-relative,
	// "." for the root): the capture module instruments one Node program.
	Pkg string
}

// Site is one call site.
type Site struct {
	Path         string
	Line         int
	Call         string
	Confidence   string
	Framework    string
	Instrumented bool
	InTestPath   bool
}

// family is one SDK: its modules, what builds a client (or which plain
// functions call the model), and the method chains that call the model.
type family struct {
	framework string
	tier      string
	module    func(string) bool
	ctors     func(string) bool // exported names that build a client
	funcs     map[string]bool   // exported functions that call the model
	methods   []string          // dotted chains after the last construction/call
	// fallback methods count without tracing the receiver, when the file
	// imports the SDK (specific enough not to be a database's .create).
	fallback []string
}

func modIs(names ...string) func(string) bool {
	return func(m string) bool {
		for _, n := range names {
			if m == n || strings.HasPrefix(m, n+"/") {
				return true
			}
		}
		return false
	}
}

func nameIn(names ...string) func(string) bool {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return func(s string) bool { return set[s] }
}

var openaiMethods = []string{
	"chat.completions.create", "chat.completions.parse", "chat.completions.stream", "chat.completions.runTools",
	"responses.create", "responses.parse", "responses.stream", "completions.create", "embeddings.create",
}

var families = []family{
	{
		framework: "openai", tier: High, module: modIs("openai"),
		ctors: nameIn("default", "OpenAI", "AzureOpenAI"), methods: openaiMethods,
		fallback: openaiMethods,
	},
	{
		framework: "anthropic", tier: High, module: modIs("@anthropic-ai/sdk", "@anthropic-ai/bedrock-sdk", "@anthropic-ai/vertex-sdk"),
		ctors:   nameIn("default", "Anthropic", "AnthropicBedrock", "AnthropicVertex"),
		methods: []string{"messages.create", "messages.stream", "completions.create"},
		// messages.create alone is also Twilio's and many ORMs': only with the SDK imported.
		fallback: []string{"messages.create", "messages.stream"},
	},
	{
		framework: "google", tier: High, module: modIs("@google/genai"),
		ctors:    nameIn("GoogleGenAI"),
		methods:  []string{"models.generateContent", "models.generateContentStream", "models.embedContent", "sendMessage", "sendMessageStream"},
		fallback: []string{"models.generateContent", "models.generateContentStream", "models.embedContent"},
	},
	{
		framework: "google", tier: High, module: modIs("@google/generative-ai"),
		ctors:    nameIn("GoogleGenerativeAI"),
		methods:  []string{"generateContent", "generateContentStream", "embedContent", "batchEmbedContents", "sendMessage", "sendMessageStream"},
		fallback: []string{"generateContent", "generateContentStream"},
	},
	{
		framework: "vercel-ai", tier: High, module: modIs("ai"),
		funcs: map[string]bool{"generateText": true, "streamText": true, "generateObject": true, "streamObject": true, "embed": true, "embedMany": true},
	},
	{
		framework: "langchain", tier: Medium,
		module: func(m string) bool {
			return strings.HasPrefix(m, "@langchain/") || strings.HasPrefix(m, "langchain/")
		},
		ctors: func(n string) bool {
			return n == "initChatModel" || ((strings.HasPrefix(n, "Chat") || strings.HasPrefix(n, "AzureChat")) &&
				!strings.HasSuffix(n, "Template") && !strings.HasSuffix(n, "History") && !strings.HasSuffix(n, "Message"))
		},
		methods: []string{"invoke", "stream", "batch", "call", "generate", "predict", "streamEvents"},
	},
	{
		framework: "mastra", tier: Medium, module: modIs("@mastra/core"),
		ctors:   nameIn("Agent", "Mastra"),
		methods: []string{"generate", "stream", "generateVNext", "streamVNext", "generateLegacy", "streamLegacy"},
	},
	{
		framework: "openai-agents", tier: Medium, module: modIs("@openai/agents", "@openai/agents-core", "@openai/agents-openai"),
		ctors: nameIn("Runner"), funcs: map[string]bool{"run": true}, methods: []string{"run"},
	},
}

// lowNames are the Python LOW tier's helper names without underscores:
// callLLM and call_llm alike.
var lowNames = map[string]bool{
	"llmcall": true, "callllm": true, "querymodel": true, "callmodel": true,
	"generateresponse": true, "chatcompletion": true, "modelinference": true,
	"runmodel": true, "askllm": true, "promptmodel": true,
}

// origin is where a callee leads: an export of a module and the steps
// taken from it.
type origin struct {
	module, name string
	segs         []Seg
}

type resolver struct {
	src     *Source
	exports map[string][]ReExport // project module key -> re-exports
	binds   map[string][]Binding
	imports map[string]Import
	// memo holds each root name's resolution (computed once: minified code
	// binds one-letter names thousands of times, and trying every binding
	// of every name again at each step would be exponential).
	memo map[string]*named
}

// named is a root name's memoized resolution.
type named struct {
	done, ok bool
	o        origin
	// factory: the name is a function; its origin is what a call returns.
	factory bool
}

// moduleKey turns a relative specifier into the project key of the file it
// names (root-relative, slash-separated, no extension).
func moduleKey(from, spec string) string {
	p := path.Join(path.Dir(strings.ReplaceAll(from, "\\", "/")), spec)
	for _, ext := range []string{".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx", ".jsx"} {
		if strings.HasSuffix(p, ext) {
			return strings.TrimSuffix(p, ext)
		}
	}
	return p
}

// through follows a relative import to the SDK export it re-exports.
func (r *resolver) through(from, mod, name string, depth int) (string, string, string) {
	if depth > 6 || !strings.HasPrefix(mod, ".") {
		return mod, name, from
	}
	key := moduleKey(from, mod)
	for _, k := range []string{key, key + "/index"} {
		for _, re := range r.exports[k] {
			if re.As == name || (re.As == "*" && name != "default" && name != "*") {
				n := re.Name
				if re.Name == "*" {
					n = name
				}
				if re.Name == "*ns" {
					n = "*"
				}
				return r.through(k, re.Module, n, depth+1)
			}
		}
	}
	return mod, name, from
}

func (r *resolver) resolve(e Expr, depth int) (origin, bool) {
	if depth > 8 {
		return origin{}, false
	}
	if e.Require != "" {
		return origin{module: e.Require, name: "*", segs: e.Segs}, true
	}
	segs := e.Segs
	root := e.Root
	if root == "this" {
		if len(segs) == 0 || segs[0].Kind != 'p' {
			return origin{}, false
		}
		root, segs = "this."+segs[0].Name, segs[1:]
	} else if im, ok := r.imports[root]; ok {
		mod, name, _ := r.through(r.src.Path, im.Module, im.Name, 0)
		return origin{module: mod, name: name, segs: segs}, true
	}
	n := r.name(root, depth)
	if !n.ok {
		return origin{}, false
	}
	rest := segs
	if n.factory {
		// A factory: calling it gives the value it returns.
		if len(rest) == 0 || rest[0].Kind != 'c' {
			return origin{}, false
		}
		rest = rest[1:]
	}
	o := n.o
	o.segs = append(append([]Seg{}, o.segs...), rest...)
	return o, true
}

// name resolves a local name through its bindings (the first that leads to
// an import wins), once per file; a name met again while being resolved
// (a cycle) resolves to nothing.
func (r *resolver) name(root string, depth int) *named {
	if n, ok := r.memo[root]; ok {
		return n
	}
	n := &named{}
	r.memo[root] = n
	bs := r.binds[root]
	if len(bs) > 64 {
		bs = bs[:64] // a name rebound this often is minified scratch, not a client
	}
	for _, b := range bs {
		if o, ok := r.resolve(b.Value, depth+1); ok {
			n.ok, n.o, n.factory = true, o, b.Func
			break
		}
	}
	n.done = true
	return n
}

// normalize makes a namespace or whole-module origin name the export it
// reaches: ns.OpenAI -> OpenAI; require('openai')() / new -> default.
func normalize(o origin) origin {
	for o.name == "*" && len(o.segs) > 0 {
		if o.segs[0].Kind == 'p' {
			o.name, o.segs = o.segs[0].Name, o.segs[1:]
			if o.name == "default" {
				continue
			}
			break
		}
		o.name = "default"
	}
	if o.name == "default" && len(o.segs) > 0 && o.segs[0].Kind == 'p' && o.segs[0].Name == "default" {
		o.segs = o.segs[1:]
	}
	return o
}

// tail is the dotted property names after the last call or new step.
func tail(segs []Seg) string {
	start := 0
	for i, s := range segs {
		if s.Kind != 'p' {
			start = i + 1
		}
	}
	names := make([]string, 0, len(segs)-start)
	for _, s := range segs[start:] {
		names = append(names, s.Name)
	}
	return strings.Join(names, ".")
}

func endsWith(chain, m string) bool {
	return chain == m || strings.HasSuffix(chain, "."+m)
}

func (f *family) match(o origin) bool {
	if !f.module(o.module) {
		return false
	}
	if len(o.segs) == 0 {
		return f.funcs[o.name]
	}
	if f.ctors == nil || !f.ctors(o.name) || o.segs[0].Kind == 'p' {
		return false
	}
	t := tail(o.segs)
	for _, m := range f.methods {
		if endsWith(t, m) {
			return true
		}
	}
	return false
}

// IsTestPath reports whether a path is test code: a tests/__tests__/
// __mocks__/test directory, or a *.test.* / *.spec.* file.
func IsTestPath(p string) bool {
	parts := strings.Split(strings.ReplaceAll(p, "\\", "/"), "/")
	for _, d := range parts[:len(parts)-1] {
		switch d {
		case "test", "tests", "__tests__", "__mocks__", "testing", "e2e", "spec", "fixtures", "__fixtures__":
			return true
		}
	}
	b := parts[len(parts)-1]
	return strings.Contains(b, ".test.") || strings.Contains(b, ".spec.") || strings.HasPrefix(b, "test_") || strings.HasSuffix(strings.TrimSuffix(b, path.Ext(b)), "_test")
}

func mockName(root string) bool {
	l := strings.ToLower(root)
	return strings.HasPrefix(l, "mock") || strings.HasPrefix(l, "fake") || strings.HasPrefix(l, "stub")
}

// Analyze finds the call sites of a project's TS/JS files.
func Analyze(srcs []Source) []Site {
	exports := map[string][]ReExport{}
	for _, s := range srcs {
		if len(s.File.ReExports) > 0 {
			k := strings.ReplaceAll(s.Path, "\\", "/")
			k = strings.TrimSuffix(k, path.Ext(k))
			exports[k] = s.File.ReExports
		}
	}
	// The capture module, imported once at an entrypoint, records every
	// call of that Node program.
	capturedPkg := map[string]bool{}
	for _, s := range srcs {
		if s.File.CaptureImport {
			capturedPkg[s.Pkg] = true
		}
	}
	var out []Site
	for i := range srcs {
		out = append(out, analyzeFile(&srcs[i], exports, capturedPkg[srcs[i].Pkg])...)
	}
	return out
}

func analyzeFile(s *Source, exports map[string][]ReExport, captured bool) []Site {
	f := s.File
	r := &resolver{src: s, exports: exports, binds: map[string][]Binding{}, imports: map[string]Import{}, memo: map[string]*named{}}
	imported := map[int]bool{} // families with a value import in this file
	for _, im := range f.Imports {
		if im.TypeOnly || im.Local == "" {
			continue
		}
		r.imports[im.Local] = im
		mod, _, _ := r.through(s.Path, im.Module, im.Name, 0)
		for fi := range families {
			if families[fi].module(mod) {
				imported[fi] = true
			}
		}
	}
	for _, b := range f.Bindings {
		r.binds[b.Name] = append(r.binds[b.Name], b)
	}
	mocked := func(mod string) bool {
		for _, m := range f.Mocked {
			if m == mod {
				return true
			}
		}
		return false
	}
	instrumented := captured || f.CaptureImport || f.Header
	test := IsTestPath(s.Path)
	var out []Site
	for _, c := range f.Calls {
		add := func(conf, fw string) {
			out = append(out, Site{Path: s.Path, Line: c.Line, Call: c.Text, Confidence: conf, Framework: fw, Instrumented: instrumented, InTestPath: test})
		}
		if mockName(c.Callee.Root) {
			continue
		}
		if o, ok := r.resolve(c.Callee, 0); ok {
			o = normalize(o)
			if c.New {
				// new X(): a construction, never a model call.
				continue
			}
			matched := false
			for fi := range families {
				fm := &families[fi]
				if fm.match(o) {
					matched = true
					if !mocked(o.module) {
						add(fm.tier, fm.framework)
					}
					break
				}
			}
			if matched || isSDKModule(o.module) {
				continue
			}
		}
		if c.New {
			continue
		}
		// The receiver could not be traced to an SDK import (a parameter,
		// a property of another object): specific chains still count, at
		// medium, when the file imports that SDK.
		t := tail(append([]Seg{{Name: c.Callee.Root, Kind: 'p'}}, c.Callee.Segs...))
		done := false
		for fi := range families {
			fm := &families[fi]
			if !imported[fi] {
				continue
			}
			for _, m := range fm.fallback {
				if endsWith(t, m) && !anyMocked(f.Mocked, fm) {
					add(Medium, fm.framework)
					done = true
					break
				}
			}
			if done {
				break
			}
		}
		if done {
			continue
		}
		// chat.completions.create is OpenAI's API shape (also served by many
		// compatible SDKs) even with no import in sight.
		if endsWith(t, "chat.completions.create") || endsWith(t, "chat.completions.parse") || endsWith(t, "chat.completions.stream") {
			if !anyMocked(f.Mocked, &families[0]) {
				add(Medium, "openai")
			}
			continue
		}
		// An SDK client held by a class or passed in (this.client,
		// this._client, llmClient): the API shapes that are not shared with
		// other libraries count when the receiver is named as a client.
		if fw := clientShape(t); fw != "" {
			if !anyMocked(f.Mocked, familyOf(fw)) {
				add(Medium, fw)
			}
			continue
		}
		last := t
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			last = t[i+1:]
		}
		if lowNames[strings.ToLower(strings.ReplaceAll(last, "_", ""))] {
			add(Low, "")
		}
	}
	return out
}

func anyMocked(mocked []string, fm *family) bool {
	for _, m := range mocked {
		if fm.module(m) {
			return true
		}
	}
	return false
}

func isSDKModule(m string) bool {
	for fi := range families {
		if families[fi].module(m) {
			return true
		}
	}
	return false
}

// clientShape recognises client.responses.create|parse|stream (OpenAI) and
// client.beta.messages.create|stream (Anthropic) on a receiver whose name
// contains "client"; a bare x.responses.create is any HTTP library's.
func clientShape(chain string) string {
	parts := strings.Split(chain, ".")
	n := len(parts)
	if n < 3 {
		return ""
	}
	m := parts[n-1]
	recv := func(k int) bool { return k >= 0 && strings.Contains(strings.ToLower(parts[k]), "client") }
	switch {
	case parts[n-2] == "responses" && (m == "create" || m == "parse" || m == "stream") && recv(n-3):
		return "openai"
	case n >= 4 && parts[n-3] == "beta" && parts[n-2] == "messages" && (m == "create" || m == "stream") && recv(n-4):
		return "anthropic"
	}
	return ""
}

func familyOf(framework string) *family {
	for i := range families {
		if families[i].framework == framework {
			return &families[i]
		}
	}
	return &families[0]
}
