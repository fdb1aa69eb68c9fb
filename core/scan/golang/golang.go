// Package golang finds LLM call sites in Go source with go/ast: calls made
// through the openai-go, anthropic-sdk-go, genai (new and legacy) and
// langchaingo clients. A call counts as instrumented when the client it is
// made on was constructed with assay's capture middleware (any call into
// core/capture inside the constructor's arguments, directly or through a
// variable). Analysis is per package directory, so a client built in one
// file and used in another is still resolved.
package golang

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/assay-dev/assay/internal/lazyre"
)

// CapturePath is the import path of assay's capture middleware.
const CapturePath = "github.com/assay-dev/assay/core/capture"

// Source is one file to analyse.
type Source struct {
	Path string // root-relative path, reported as is
	Src  []byte
}

// Site is one call site.
type Site struct {
	Path         string
	Line         int
	Call         string
	Confidence   string
	Framework    string
	Instrumented bool
	Fix          string
}

// Skipped is a file that did not parse.
type Skipped struct{ Path, Reason string }

// MaxNesting is the deepest bracket nesting a Go file may have to be
// parsed. go/parser recurses once per level and gives up only past
// 100,000 levels: a hostile file of a few megabytes just under that costs
// seconds and hundreds of megabytes of stack per expression, while real
// code (generated tables included) stays within a few dozen.
const MaxNesting = 1000

// nestedDeeper reports whether src nests (, [ and { deeper than max,
// outside comments and string and rune literals: one linear pass, so a
// file is judged before the recursive parser sees it.
func nestedDeeper(src []byte, max int) bool {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '(', '[', '{':
			if depth++; depth > max {
				return true
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			} else if i+1 < len(src) && src[i+1] == '*' {
				i += 2
				for i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/') {
					i++
				}
				i++
			}
		case '"', '\'':
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '`':
			for i++; i < len(src) && src[i] != '`'; i++ {
			}
		}
	}
	return false
}

// sdk describes one SDK: which import paths it lives in and which function
// builds a client.
type sdk struct {
	framework string
	path      *regexp.Regexp
	ctor      string
}

// sdks is built on first use: compiling its patterns at init would cost
// every assay command's start-up.
var sdks = sync.OnceValue(func() []sdk {
	return []sdk{
		{"openai", regexp.MustCompile(`^github\.com/openai/openai-go(/v\d+)?$`), "NewClient"},
		{"anthropic", regexp.MustCompile(`^github\.com/anthropics/anthropic-sdk-go(/v\d+)?$`), "NewClient"},
		{"google", regexp.MustCompile(`^google\.golang\.org/genai$`), "NewClient"},
		{"google", regexp.MustCompile(`^github\.com/google/generative-ai-go/genai$`), "NewClient"},
		{"langchaingo", regexp.MustCompile(`^github\.com/tmc/langchaingo/llms/[a-z0-9]+$`), "New"},
	}
})

// methods are the call-chain suffixes that make an LLM request, per
// framework. Calls on a langchaingo model are recognised through the
// binding instead (its methods have generic names).
var methods = map[string][]string{
	"openai":    {"Chat.Completions.New", "Chat.Completions.NewStreaming", "Completions.New", "Responses.New", "Responses.NewStreaming"},
	"anthropic": {"Messages.New", "Messages.NewStreaming"},
	"google":    {"Models.GenerateContent", "Models.GenerateContentStream", "GenerateContent", "GenerateContentStream", "SendMessage", "SendMessageStream"},
}

var langchainMethods = map[string]bool{"GenerateContent": true, "Call": true}

// FixText is the fix we suggest for an uninstrumented Go call site.
func FixText(framework string) string {
	switch framework {
	case "openai", "anthropic":
		return "hc, _ := capture.NewClient(capture.Options{}) // " + CapturePath + "; then NewClient(option.WithHTTPClient(hc)), or run 'assay patch .'"
	case "google":
		return "hc, _ := capture.NewClient(capture.Options{}) // " + CapturePath + "; then genai.ClientConfig{HTTPClient: hc}, or run 'assay patch .'"
	default:
		return "hc, _ := capture.NewClient(capture.Options{}) // " + CapturePath + "; then New(WithHTTPClient(hc)), or run 'assay patch .'"
	}
}

type ctorInfo struct {
	framework    string
	instrumented bool
}

type pkg struct {
	fset     *token.FileSet
	files    []*ast.File
	paths    []string
	imported map[string]bool // frameworks imported anywhere in the package
	bindings map[string][]ctorInfo
	captured map[string]bool // names bound to a capture-built value
	funcs    map[string][]ctorInfo
	prev     map[string][]ctorInfo // funcs from the previous pass
}

var majorVersion = lazyre.New(`^v\d+$`)

// fileImports maps local package names to their import paths.
func fileImports(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := p[strings.LastIndexByte(p, '/')+1:]
		if majorVersion().MatchString(name) {
			parts := strings.Split(p, "/")
			if len(parts) > 1 {
				name = parts[len(parts)-2]
			}
		}
		name = strings.TrimSuffix(strings.TrimPrefix(name, "go-"), "-go")
		if name == "anthropic-sdk" {
			name = "anthropic"
		}
		if im.Name != nil {
			name = im.Name.Name
		}
		m[name] = p
	}
	return m
}

// Analyze finds the call sites of one package directory.
func Analyze(files []Source) ([]Site, []Skipped) {
	p := &pkg{fset: token.NewFileSet(), imported: map[string]bool{}, bindings: map[string][]ctorInfo{}, captured: map[string]bool{}, funcs: map[string][]ctorInfo{}}
	var skipped []Skipped
	var imps []map[string]string
	for _, s := range files {
		if nestedDeeper(s.Src, MaxNesting) {
			skipped = append(skipped, Skipped{Path: s.Path, Reason: "Go source nested too deeply"})
			continue
		}
		f, err := parser.ParseFile(p.fset, s.Path, s.Src, parser.SkipObjectResolution)
		if err != nil {
			skipped = append(skipped, Skipped{Path: s.Path, Reason: "Go syntax error"})
			continue
		}
		p.files = append(p.files, f)
		p.paths = append(p.paths, s.Path)
		im := fileImports(f)
		imps = append(imps, im)
		for _, path := range im {
			for _, s := range sdks() {
				if s.path.MatchString(path) {
					p.imported[s.framework] = true
				}
			}
		}
	}
	if len(p.imported) == 0 {
		return nil, skipped
	}
	// Repeat until nothing changes, so helpers and captured HTTP clients
	// defined after (or in another file than) their use are known.
	for pass := 0; pass < 4; pass++ {
		p.prev, p.funcs, p.bindings = p.funcs, map[string][]ctorInfo{}, map[string][]ctorInfo{}
		nCaptured := len(p.captured)
		for i, f := range p.files {
			p.collect(f, imps[i])
		}
		if pass > 0 && nCaptured == len(p.captured) && sameFuncs(p.prev, p.funcs) {
			break
		}
	}
	var sites []Site
	for i, f := range p.files {
		sites = append(sites, p.calls(f, p.paths[i], imps[i])...)
	}
	return sites, skipped
}

// ctorOf reports whether call builds an SDK client, and whether it was
// built with capture.
func (p *pkg) ctorOf(call *ast.CallExpr, im map[string]string) (ctorInfo, bool) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if ok {
		if x, ok := sel.X.(*ast.Ident); ok {
			if path, ok := im[x.Name]; ok {
				for _, s := range sdks() {
					if s.path.MatchString(path) && sel.Sel.Name == s.ctor {
						return ctorInfo{framework: s.framework, instrumented: p.usesCapture(call.Args, im)}, true
					}
				}
			}
		}
	}
	if id, ok := call.Fun.(*ast.Ident); ok {
		if cs, ok := p.prev[id.Name]; ok && len(cs) > 0 {
			return merge(cs), true
		}
	}
	return ctorInfo{}, false
}

func merge(cs []ctorInfo) ctorInfo {
	out := ctorInfo{framework: cs[0].framework, instrumented: true}
	for _, c := range cs {
		if !c.instrumented {
			out.instrumented = false
		}
	}
	return out
}

// isCaptureCall reports whether call is a function of the capture package.
func isCaptureCall(call *ast.CallExpr, im map[string]string) bool {
	fn := call.Fun
	for {
		switch x := fn.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && im[id.Name] == CapturePath {
				return true
			}
			fn = x.X
			continue
		case *ast.CallExpr:
			fn = x.Fun
			continue
		}
		return false
	}
}

// usesCapture reports whether any argument (recursively) calls the capture
// package or names a value built by it.
func (p *pkg) usesCapture(args []ast.Expr, im map[string]string) bool {
	found := false
	for _, a := range args {
		ast.Inspect(a, func(n ast.Node) bool {
			if found {
				return false
			}
			switch x := n.(type) {
			case *ast.CallExpr:
				if isCaptureCall(x, im) {
					found = true
				}
			case *ast.Ident:
				if p.captured[x.Name] {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

func lastName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.StarExpr:
		return lastName(x.X)
	case *ast.UnaryExpr:
		return lastName(x.X)
	case *ast.ParenExpr:
		return lastName(x.X)
	case *ast.IndexExpr:
		return lastName(x.X)
	case *ast.CallExpr:
		return lastName(x.Fun)
	}
	return ""
}

// collect records client bindings, capture-built values and helper
// functions that return clients.
func (p *pkg) collect(f *ast.File, im map[string]string) {
	bind := func(name string, v ast.Expr) {
		v = unparen(v)
		if u, ok := v.(*ast.UnaryExpr); ok {
			v = unparen(u.X)
		}
		if name == "" || name == "_" {
			return
		}
		// A value built with a capture call anywhere inside it (directly, or
		// in a sync.OnceValue closure as 'assay patch' writes) is a
		// captured HTTP client.
		ast.Inspect(v, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && isCaptureCall(c, im) {
				p.captured[name] = true
				return false
			}
			return true
		})
		call, ok := v.(*ast.CallExpr)
		if !ok {
			return
		}
		if c, ok := p.ctorOf(call, im); ok {
			p.addBinding(name, c)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			if len(x.Rhs) == 1 && len(x.Lhs) >= 1 {
				bind(lastName(x.Lhs[0]), x.Rhs[0])
			} else {
				for i := range x.Lhs {
					if i < len(x.Rhs) {
						bind(lastName(x.Lhs[i]), x.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			for i, nm := range x.Names {
				if i < len(x.Values) {
					bind(nm.Name, x.Values[i])
				} else if len(x.Values) == 1 {
					bind(nm.Name, x.Values[0])
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := x.Key.(*ast.Ident); ok {
				bind(k.Name, x.Value)
			}
		case *ast.FuncDecl:
			if x.Body == nil {
				return true
			}
			name := x.Name.Name
			ast.Inspect(x.Body, func(n ast.Node) bool {
				r, ok := n.(*ast.ReturnStmt)
				if !ok {
					return true
				}
				for _, res := range r.Results {
					res = unparen(res)
					if u, ok := res.(*ast.UnaryExpr); ok {
						res = unparen(u.X)
					}
					if call, ok := res.(*ast.CallExpr); ok {
						if c, ok := p.ctorOf(call, im); ok {
							p.addFunc(name, c)
						}
						if isCaptureCall(call, im) {
							p.captured[name] = true
						}
					} else if id, ok := res.(*ast.Ident); ok {
						if p.captured[id.Name] {
							p.captured[name] = true
						}
						if cs, ok := p.bindings[id.Name]; ok {
							for _, c := range cs {
								p.addFunc(name, c)
							}
						}
					}
				}
				return true
			})
		}
		return true
	})
}

func sameFuncs(a, b map[string][]ctorInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := b[k]
		if len(v) != len(w) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return true
}

func (p *pkg) addBinding(name string, c ctorInfo) {
	for _, e := range p.bindings[name] {
		if e == c {
			return
		}
	}
	p.bindings[name] = append(p.bindings[name], c)
}

func (p *pkg) addFunc(name string, c ctorInfo) {
	for _, e := range p.funcs[name] {
		if e == c {
			return
		}
	}
	p.funcs[name] = append(p.funcs[name], c)
}

func unparen(e ast.Expr) ast.Expr {
	for {
		pe, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = pe.X
	}
}

// chain renders a callee as a dotted string the way the Python rules do:
// identifiers and selectors are kept, index expressions are dropped, and a
// call or other expression ends the chain.
func chain(e ast.Expr) string {
	switch x := unparen(e).(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		if s := chain(x.X); s != "" {
			return s + "." + x.Sel.Name
		}
		return x.Sel.Name
	case *ast.IndexExpr:
		return chain(x.X)
	case *ast.IndexListExpr:
		return chain(x.X)
	case *ast.StarExpr:
		return chain(x.X)
	}
	return ""
}

// receiver returns the expression the method chain hangs off: for
// a.b.Chat.Completions.New with suffix Chat.Completions.New, a.b.
func receiver(sel ast.Expr, depth int) ast.Expr {
	e := unparen(sel)
	for i := 0; i < depth; i++ {
		s, ok := e.(*ast.SelectorExpr)
		if !ok {
			return nil
		}
		e = unparen(s.X)
	}
	return e
}

func (p *pkg) resolve(recv ast.Expr, framework string) (ctorInfo, bool) {
	if recv == nil {
		return ctorInfo{}, false
	}
	name := lastName(recv)
	var cs []ctorInfo
	for _, c := range p.bindings[name] {
		if c.framework == framework {
			cs = append(cs, c)
		}
	}
	if call, ok := unparen(recv).(*ast.CallExpr); ok {
		if id, ok := call.Fun.(*ast.Ident); ok {
			for _, c := range p.funcs[id.Name] {
				if c.framework == framework {
					cs = append(cs, c)
				}
			}
		}
	}
	if len(cs) == 0 {
		return ctorInfo{}, false
	}
	return merge(cs), true
}

// fallback is the package-wide answer when a receiver cannot be traced:
// instrumented only if every client of that framework in the package was
// built with capture.
func (p *pkg) fallback(framework string) bool {
	seen := false
	for _, cs := range p.bindings {
		for _, c := range cs {
			if c.framework != framework {
				continue
			}
			seen = true
			if !c.instrumented {
				return false
			}
		}
	}
	return seen
}

func (p *pkg) calls(f *ast.File, path string, im map[string]string) []Site {
	var out []Site
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		str := chain(call.Fun)
		// The line of the opening parenthesis: that is the line Go's
		// runtime reports for the call (runtime.Caller), so the contract's
		// callsite_id matches the capture middleware's even when a chain
		// spans lines.
		line := p.fset.Position(call.Lparen).Line
		add := func(framework, confidence string, instrumented bool) {
			out = append(out, Site{Path: path, Line: line, Call: str, Confidence: confidence, Framework: framework, Instrumented: instrumented, Fix: FixText(framework)})
		}
		sel, ok := unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return true
		}
		// langchaingo: llms.GenerateFromSinglePrompt(ctx, model, ...) and
		// methods on a model built by a langchaingo constructor.
		if x, ok := sel.X.(*ast.Ident); ok && im[x.Name] == "github.com/tmc/langchaingo/llms" {
			if strings.HasPrefix(sel.Sel.Name, "GenerateFrom") && len(call.Args) >= 2 {
				c, ok := p.resolve(call.Args[1], "langchaingo")
				if !ok {
					c.instrumented = p.fallback("langchaingo")
				}
				add("langchaingo", High, c.instrumented)
			}
			return true
		}
		if langchainMethods[sel.Sel.Name] && p.imported["langchaingo"] {
			if c, ok := p.resolve(sel.X, "langchaingo"); ok {
				add("langchaingo", High, c.instrumented)
				return true
			}
		}
		for _, fw := range []string{"openai", "anthropic", "google"} {
			if !p.imported[fw] {
				continue
			}
			for _, m := range methods[fw] {
				if tail := chainTail(call.Fun); tail != m && !strings.HasSuffix(tail, "."+m) {
					continue
				}
				depth := strings.Count(m, ".") + 1
				c, ok := p.resolve(receiver(call.Fun, depth), fw)
				if !ok {
					c.instrumented = p.fallback(fw)
				}
				conf := High
				if fw == "google" && !strings.HasPrefix(m, "Models.") {
					conf = Medium // a method on a legacy GenerativeModel/ChatSession
				}
				add(fw, conf, c.instrumented)
				return true
			}
		}
		return true
	})
	return out
}

// chainTail is the selector names of a callee, even when the chain starts
// at a call (newClient().Chat.Completions.New).
func chainTail(e ast.Expr) string {
	var names []string
	for {
		s, ok := unparen(e).(*ast.SelectorExpr)
		if !ok {
			break
		}
		names = append([]string{s.Sel.Name}, names...)
		e = s.X
	}
	return strings.Join(names, ".")
}

// Confidence tiers (the same words the Python rules use).
const (
	High   = "high"
	Medium = "medium"
)
