// Package typescript finds LLM call sites in TypeScript, TSX and JavaScript
// source. Files are parsed with the official tree-sitter grammars (through
// the same flattened C walk as core/scan/python) into what the rules need:
// imports (ESM, CommonJS require, TS import-equals), re-exports, local
// bindings (const/let/var, class fields, this.x assignments) and every call
// with its callee chain. Rules (rules.go) then resolve each callee back to
// the SDK import it came from, so `client.chat.completions.create` counts
// because `client` was built by `new OpenAI()`, and `db.users.create` does
// not.
package typescript

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	sitter "github.com/tree-sitter/go-tree-sitter"
	tsjs "github.com/tree-sitter/tree-sitter-javascript/bindings/go"
	tsts "github.com/tree-sitter/tree-sitter-typescript/bindings/go"

	"github.com/assay-dev/assay/core/scan/internal/tsflat"
)

// Dialect selects the grammar.
type Dialect int

// Grammars.
const (
	TS Dialect = iota
	TSX
	JS
)

// DialectOf maps a file name to its grammar; ok is false for files that are
// not TS/JS source (declaration files .d.ts hold no calls and are skipped).
func DialectOf(name string) (Dialect, bool) {
	switch {
	case strings.HasSuffix(name, ".d.ts"), strings.HasSuffix(name, ".d.mts"), strings.HasSuffix(name, ".d.cts"):
		return 0, false
	}
	switch path.Ext(name) {
	case ".ts", ".mts", ".cts":
		return TS, true
	case ".tsx":
		return TSX, true
	case ".js", ".mjs", ".cjs", ".jsx":
		return JS, true
	}
	return 0, false
}

// Seg is one step of a callee chain.
type Seg struct {
	Name string // property name; "" for a call or new step
	Kind byte   // 'p' property, 'c' call, 'n' new
}

// Expr is a callee or bound value as a chain off a root identifier.
type Expr struct {
	Root string // identifier, "this", or "" when the chain starts at something else
	Segs []Seg
	// Require is the module of a require('m') at the root.
	Require string
}

// Import is one imported binding.
type Import struct {
	Local    string
	Module   string
	Name     string // "default", "*" (namespace / whole CommonJS module) or the exported name
	TypeOnly bool
}

// ReExport is `export { a as b } from 'm'` / `export * from 'm'`.
type ReExport struct {
	As, Module, Name string // Name "*" for export *
}

// Binding is a local name and the value it was given.
type Binding struct {
	Name  string // identifier, or "this.x" for class fields and this.x = ...
	Value Expr
	// Func: Name is a function (or method) returning Value, so a call of
	// it is the value (a factory: function makeClient() { return new OpenAI() }).
	Func bool
}

// Call is one call or new expression.
type Call struct {
	Callee Expr
	New    bool
	// Line is where V8 reports the call in a stack trace: the line of the
	// last property for a method call, else of the callee's start.
	Line int
	// Text is the dotted callee string, as the Python rules build it.
	Text string
}

// File is what the rules need from one source file.
type File struct {
	Imports   []Import
	ReExports []ReExport
	Bindings  []Binding
	Calls     []Call
	// Mocked are modules replaced by jest.mock / vi.mock in this file.
	Mocked []string
	// CaptureImport: the file imports or requires assay's capture module.
	CaptureImport bool
	// Header: the file names the gateway's per-site header.
	Header bool
}

// ErrSkip is wrapped by every reason a file is not analysed.
var ErrSkip = errors.New("file skipped")

// grammar holds one language's node-kind and field ids.
type grammar struct {
	ptr  unsafe.Pointer
	k    kinds
	pool sync.Pool
}

type kinds struct {
	call, member, subscript, newExpr, ident, this, paren, await, nonNull, asExpr, satisfies, typeAssert uint16
	comment, str, template, importStmt, importClause, namespaceImport, namedImports, importSpec         uint16
	importRequire, exportStmt, exportClause, exportSpec, lexical, varDecl, declarator, objPattern       uint16
	pairPattern, shorthandPattern, assign, fieldDef, propIdent, privProp, typeKw, stringFrag            uint16
	args, shorthandProp, typeIdent, sequence, nsExport, funcDecl, arrow, ret, stmtBlock, method, fBody  uint16
	fFunction, fArguments, fObject, fProperty, fConstructor, fSource, fName, fAlias, fValue             uint16
	fLeft, fRight, fKey, fIndex                                                                         uint16
}

func newGrammar(l *sitter.Language, ptr unsafe.Pointer) *grammar {
	id := func(s string) uint16 { return l.IdForNodeKind(s, true) }
	f := func(s string) uint16 { return l.FieldIdForName(s) }
	g := &grammar{ptr: ptr, k: kinds{
		call: id("call_expression"), member: id("member_expression"), subscript: id("subscript_expression"),
		newExpr: id("new_expression"), ident: id("identifier"), this: id("this"), paren: id("parenthesized_expression"),
		await: id("await_expression"), nonNull: id("non_null_expression"), asExpr: id("as_expression"),
		satisfies: id("satisfies_expression"), typeAssert: id("type_assertion"),
		comment: id("comment"), str: id("string"), template: id("template_string"),
		importStmt: id("import_statement"), importClause: id("import_clause"), namespaceImport: id("namespace_import"),
		namedImports: id("named_imports"), importSpec: id("import_specifier"), importRequire: id("import_require_clause"),
		exportStmt: id("export_statement"), exportClause: id("export_clause"), exportSpec: id("export_specifier"),
		lexical: id("lexical_declaration"), varDecl: id("variable_declaration"), declarator: id("variable_declarator"),
		objPattern: id("object_pattern"), pairPattern: id("pair_pattern"), shorthandPattern: id("shorthand_property_identifier_pattern"),
		assign: id("assignment_expression"), fieldDef: fieldDefID(l), propIdent: id("property_identifier"),
		privProp: id("private_property_identifier"), typeKw: l.IdForNodeKind("type", false), stringFrag: id("string_fragment"),
		args: id("arguments"), shorthandProp: id("shorthand_property_identifier"), typeIdent: id("type_identifier"),
		sequence: id("sequence_expression"), nsExport: id("namespace_export"),
		funcDecl: id("function_declaration"), arrow: id("arrow_function"), ret: id("return_statement"),
		stmtBlock: id("statement_block"), method: id("method_definition"), fBody: f("body"),
		fFunction: f("function"), fArguments: f("arguments"), fObject: f("object"), fProperty: f("property"),
		fConstructor: f("constructor"), fSource: f("source"), fName: f("name"), fAlias: f("alias"), fValue: f("value"),
		fLeft: f("left"), fRight: f("right"), fKey: f("key"), fIndex: f("index"),
	}}
	g.pool.New = func() any { return tsflat.NewParser(g.ptr, "typescript") }
	return g
}

// fieldDefID: TypeScript calls a class field public_field_definition,
// JavaScript field_definition.
func fieldDefID(l *sitter.Language) uint16 {
	if id := l.IdForNodeKind("public_field_definition", true); id != 0 {
		return id
	}
	return l.IdForNodeKind("field_definition", true)
}

// grammars are loaded on first use, not at init: every assay command
// links the scanner, few parse TypeScript.
var grammars = sync.OnceValue(func() map[Dialect]*grammar {
	return map[Dialect]*grammar{
		TS:  newGrammar(sitter.NewLanguage(tsts.LanguageTypescript()), tsts.LanguageTypescript()),
		TSX: newGrammar(sitter.NewLanguage(tsts.LanguageTSX()), tsts.LanguageTSX()),
		JS:  newGrammar(sitter.NewLanguage(tsjs.Language()), tsjs.Language()),
	}
})

var bom = []byte{0xEF, 0xBB, 0xBF}

// Parse parses one file. Files that are not valid UTF-8, contain a NUL
// byte, or do not parse are refused with an error wrapping ErrSkip (a
// partial tree would give partial, misleading results). A leading BOM is
// allowed (editors on Windows write it; Node accepts it).
func Parse(src []byte, d Dialect) (*File, error) {
	src = bytes.TrimPrefix(src, bom)
	switch {
	case bytes.IndexByte(src, 0) >= 0:
		return nil, fmt.Errorf("%w: contains a NUL byte", ErrSkip)
	case !utf8.Valid(src):
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrSkip)
	}
	g := grammars()[d]
	cp := g.pool.Get().(*tsflat.Parser)
	defer g.pool.Put(cp) // after the walk: the parser reuses the tree's arrays
	t, hasErr, err := cp.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSkip, err)
	}
	if hasErr {
		return nil, fmt.Errorf("%w: syntax error", ErrSkip)
	}
	w := walker{src: src, k: &g.k, t: t}
	if len(t.Sym) > 0 {
		w.visit(0)
	}
	return &w.f, nil
}

type walker struct {
	src []byte
	k   *kinds
	t   *tsflat.Tree
	f   File
}

func (w *walker) text(n int32) string { return string(w.src[w.t.Start[n]:w.t.End[n]]) }

func (w *walker) field(n int32, id uint16) int32 {
	for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
		if w.t.Field[c] == id {
			return c
		}
	}
	return -1
}

func (w *walker) child(n int32, sym uint16) int32 {
	for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
		if w.t.Sym[c] == sym {
			return c
		}
	}
	return -1
}

func (w *walker) hasAnon(n int32, sym uint16) bool {
	for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
		if w.t.Sym[c] == sym && !w.t.Named[c] {
			return true
		}
	}
	return false
}

// strValue is the text of a string literal node (without quotes), ok false
// for anything else.
func (w *walker) strValue(n int32) (string, bool) {
	if n < 0 {
		return "", false
	}
	if w.t.Sym[n] == w.k.str {
		var b strings.Builder
		for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
			if w.t.Named[c] {
				b.WriteString(w.text(c))
			}
		}
		return b.String(), true
	}
	if w.t.Sym[n] == w.k.template && w.t.First[n] >= 0 {
		s := w.text(n)
		if len(s) >= 2 && !strings.Contains(s, "${") {
			return s[1 : len(s)-1], true
		}
	}
	return "", false
}

// firstArg returns the first argument node of a call, or -1.
func (w *walker) firstArg(call int32) int32 {
	a := w.field(call, w.k.fArguments)
	if a < 0 {
		return -1
	}
	for c := w.t.First[a]; c >= 0; c = w.t.Next[c] {
		if w.t.Named[c] && w.t.Sym[c] != w.k.comment {
			return c
		}
	}
	return -1
}

// interop are the helpers compilers wrap a CommonJS require in
// (TypeScript, Babel, esbuild): __importDefault(require('m')) is still m.
var interop = map[string]bool{
	"__importDefault": true, "__importStar": true, "_interopRequireDefault": true,
	"_interopRequireWildcard": true, "__toESM": true, "__toCommonJS": true,
}

// requireOf returns the module of require('m') (also inside a compiler's
// interop helper), ok false otherwise.
func (w *walker) requireOf(n int32) (string, bool) {
	if n < 0 || w.t.Sym[n] != w.k.call {
		return "", false
	}
	fn := w.unwrap(w.field(n, w.k.fFunction))
	if fn < 0 {
		return "", false
	}
	name := w.text(fn)
	if w.t.Sym[fn] == w.k.member {
		if p := w.field(fn, w.k.fProperty); p >= 0 {
			name = w.text(p) // tslib.__importDefault
		}
	} else if w.t.Sym[fn] != w.k.ident {
		return "", false
	}
	if interop[name] {
		if a := w.unwrap(w.firstArg(n)); a >= 0 {
			return w.requireOf(a)
		}
		return "", false
	}
	if name != "require" || w.t.Sym[fn] != w.k.ident {
		return "", false
	}
	return w.strValue(w.firstArg(n))
}

func (w *walker) unwrap(n int32) int32 {
	k := w.k
	for n >= 0 {
		switch w.t.Sym[n] {
		case k.paren, k.await, k.nonNull, k.asExpr, k.satisfies, k.typeAssert:
			var inner int32 = -1
			for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
				if w.t.Named[c] && w.t.Sym[c] != w.k.comment {
					inner = c
					break
				}
			}
			if w.t.Sym[n] == k.typeAssert {
				// <T>expr: the expression is the last named child.
				for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
					if w.t.Named[c] {
						inner = c
					}
				}
			}
			n = inner
		case k.sequence:
			// (0, fn)(...): the value is the last expression.
			var last int32 = -1
			for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
				if w.t.Named[c] && w.t.Sym[c] != w.k.comment {
					last = c
				}
			}
			n = last
		default:
			return n
		}
	}
	return n
}

// chain turns an expression into a root and steps.
func (w *walker) chain(n int32) Expr {
	n = w.unwrap(n)
	if n < 0 {
		return Expr{}
	}
	k := w.k
	switch w.t.Sym[n] {
	case k.ident:
		return Expr{Root: w.text(n)}
	case k.this:
		return Expr{Root: "this"}
	case k.member:
		e := w.chain(w.field(n, k.fObject))
		if p := w.field(n, k.fProperty); p >= 0 {
			e.Segs = append(e.Segs, Seg{Name: w.text(p), Kind: 'p'})
		}
		return e
	case k.subscript:
		e := w.chain(w.field(n, k.fObject))
		if s, ok := w.strValue(w.field(n, k.fIndex)); ok {
			e.Segs = append(e.Segs, Seg{Name: s, Kind: 'p'})
		}
		return e
	case k.call:
		if m, ok := w.requireOf(n); ok {
			return Expr{Require: m}
		}
		e := w.chain(w.field(n, k.fFunction))
		e.Segs = append(e.Segs, Seg{Kind: 'c'})
		return e
	case k.newExpr:
		e := w.chain(w.field(n, k.fConstructor))
		e.Segs = append(e.Segs, Seg{Kind: 'n'})
		return e
	}
	return Expr{}
}

// dotted is the Python-style call string: names after the last call.
func dotted(e Expr) string {
	start, root := 0, e.Root
	for i, s := range e.Segs {
		if s.Kind != 'p' {
			start, root = i+1, ""
		}
	}
	if e.Require != "" && start == 0 {
		root = ""
	}
	parts := make([]string, 0, len(e.Segs)+1)
	if root != "" {
		parts = append(parts, root)
	}
	for _, s := range e.Segs[start:] {
		parts = append(parts, s.Name)
	}
	return strings.Join(parts, ".")
}

// callLine is the line V8 reports for a call: the last property's line
// for a method call, otherwise the start of the callee (for new, the
// start of the expression).
func (w *walker) callLine(n int32, isNew bool) int {
	if isNew {
		return int(w.t.Row[n]) + 1
	}
	fn := w.unwrap(w.field(n, w.k.fFunction))
	if fn >= 0 && w.t.Sym[fn] == w.k.member {
		if p := w.field(fn, w.k.fProperty); p >= 0 {
			return int(w.t.Row[p]) + 1
		}
	}
	if fn >= 0 {
		return int(w.t.Row[fn]) + 1
	}
	return int(w.t.Row[n]) + 1
}

// CaptureModule is the base name (without extension) of assay's Node
// capture module that `assay patch` writes; importing it is evidence.
const CaptureModule = "assay_capture"

// GatewayHeader is the gateway's per-site attribution header; a file that
// sends it attributes its calls.
const GatewayHeader = "X-Assay-Callsite"

func isCaptureModule(m string) bool {
	b := path.Base(m)
	return strings.HasPrefix(m, ".") && (b == CaptureModule || strings.HasPrefix(b, CaptureModule+"."))
}

func (w *walker) addImport(im Import) {
	w.f.Imports = append(w.f.Imports, im)
	if isCaptureModule(im.Module) {
		w.f.CaptureImport = true
	}
}

func (w *walker) visit(n int32) {
	k, t := w.k, w.t
	switch t.Sym[n] {
	case k.comment:
		return
	case k.importStmt:
		w.importStmt(n)
		return
	case k.exportStmt:
		w.exportStmt(n)
	case k.declarator:
		w.declarator(n)
	case k.assign:
		l := w.unwrap(w.field(n, k.fLeft))
		if r := w.field(n, k.fRight); l >= 0 && r >= 0 {
			if t.Sym[l] == k.ident {
				w.bind(w.text(l), r)
			} else if t.Sym[l] == k.member {
				if o := w.unwrap(w.field(l, k.fObject)); o >= 0 && t.Sym[o] == k.this {
					if p := w.field(l, k.fProperty); p >= 0 {
						w.bind("this."+w.text(p), r)
					}
				}
			}
		}
	case k.fieldDef:
		nm := w.field(n, k.fName)
		if nm < 0 {
			nm = w.field(n, k.fProperty)
		}
		if v := w.field(n, k.fValue); nm >= 0 && v >= 0 {
			w.bind("this."+w.text(nm), v)
		}
	case k.str, k.template:
		if s, ok := w.strValue(n); ok && strings.EqualFold(s, GatewayHeader) {
			w.f.Header = true
		}
	case k.call, k.newExpr:
		w.call(n)
	case k.funcDecl, k.method:
		if nm, body := w.field(n, k.fName), w.field(n, k.fBody); nm >= 0 && body >= 0 {
			name := w.text(nm)
			if t.Sym[n] == k.method {
				name = "this." + name
			}
			w.returns(name, body)
		}
	}
	for c := t.First[n]; c >= 0; c = t.Next[c] {
		w.visit(c)
	}
}

func (w *walker) call(n int32) {
	k := w.k
	isNew := w.t.Sym[n] == k.newExpr
	var callee Expr
	if isNew {
		callee = w.chain(w.field(n, k.fConstructor))
	} else {
		fn := w.field(n, k.fFunction)
		if m, ok := w.requireOf(n); ok {
			// A bare require('./assay_capture.cjs') is evidence too.
			if isCaptureModule(m) {
				w.f.CaptureImport = true
			}
			return
		}
		callee = w.chain(fn)
		// jest.mock('openai') / vi.mock('openai', ...): the SDK is a mock here.
		if len(callee.Segs) == 1 && callee.Segs[0].Name == "mock" && (callee.Root == "jest" || callee.Root == "vi") {
			if m, ok := w.strValue(w.firstArg(n)); ok {
				w.f.Mocked = append(w.f.Mocked, m)
			}
		}
		// Dynamic import('m') binds nothing we can follow; a capture import is evidence.
		if fn >= 0 && w.text(fn) == "import" {
			if m, ok := w.strValue(w.firstArg(n)); ok && isCaptureModule(m) {
				w.f.CaptureImport = true
			}
			return
		}
	}
	if callee.Root == "" && callee.Require == "" && len(callee.Segs) == 0 {
		return
	}
	w.f.Calls = append(w.f.Calls, Call{Callee: callee, New: isNew, Line: w.callLine(n, isNew), Text: dotted(callee)})
}

func (w *walker) bind(name string, v int32) {
	e := w.chain(v)
	if e.Root == "" && e.Require == "" {
		return
	}
	w.f.Bindings = append(w.f.Bindings, Binding{Name: name, Value: e})
}

// declarator handles const x = ..., const { a, b: c } = require('m') /
// = obj, including CommonJS requires.
func (w *walker) declarator(n int32) {
	k, t := w.k, w.t
	name, val := w.field(n, k.fName), w.field(n, k.fValue)
	if name < 0 || val < 0 {
		return
	}
	switch t.Sym[name] {
	case k.ident:
		vv := w.unwrap(val)
		if vv >= 0 && t.Sym[vv] == k.arrow {
			if body := w.field(vv, k.fBody); body >= 0 {
				if t.Sym[body] == k.stmtBlock {
					w.returns(w.text(name), body)
				} else if e := w.chain(body); e.Root != "" || e.Require != "" {
					w.f.Bindings = append(w.f.Bindings, Binding{Name: w.text(name), Value: e, Func: true})
				}
			}
			return
		}
		if m, ok := w.requireOf(vv); ok {
			w.addImport(Import{Local: w.text(name), Module: m, Name: "*"})
			return
		}
		w.bind(w.text(name), val)
	case k.objPattern:
		src := w.chain(val)
		for c := t.First[name]; c >= 0; c = t.Next[c] {
			var key, local string
			switch t.Sym[c] {
			case k.shorthandPattern:
				key, local = w.text(c), w.text(c)
			case k.pairPattern:
				kk, vv := w.field(c, k.fKey), w.unwrap(w.field(c, k.fValue))
				if kk < 0 || vv < 0 || t.Sym[vv] != k.ident {
					continue
				}
				key, local = w.text(kk), w.text(vv)
				if s, ok := w.strValue(kk); ok {
					key = s
				}
			default:
				continue
			}
			if src.Require != "" && len(src.Segs) == 0 {
				w.addImport(Import{Local: local, Module: src.Require, Name: key})
				continue
			}
			e := src
			e.Segs = append(append([]Seg{}, src.Segs...), Seg{Name: key, Kind: 'p'})
			if e.Root != "" || e.Require != "" {
				w.f.Bindings = append(w.f.Bindings, Binding{Name: local, Value: e})
			}
		}
	}
}

func (w *walker) importStmt(n int32) {
	k, t := w.k, w.t
	typeOnly := w.hasAnon(n, k.typeKw)
	mod, ok := w.strValue(w.field(n, k.fSource))
	if req := w.child(n, k.importRequire); req >= 0 {
		// import x = require('m')
		m, _ := w.strValue(w.field(req, k.fSource))
		if id := w.child(req, k.ident); id >= 0 {
			w.addImport(Import{Local: w.text(id), Module: m, Name: "*", TypeOnly: typeOnly})
		}
		return
	}
	if !ok {
		return
	}
	clause := w.child(n, k.importClause)
	if clause < 0 {
		// import 'm' (side effect only)
		if isCaptureModule(mod) {
			w.f.CaptureImport = true
		}
		w.f.Imports = append(w.f.Imports, Import{Module: mod, TypeOnly: typeOnly})
		return
	}
	for c := t.First[clause]; c >= 0; c = t.Next[c] {
		switch t.Sym[c] {
		case k.ident:
			w.addImport(Import{Local: w.text(c), Module: mod, Name: "default", TypeOnly: typeOnly})
		case k.namespaceImport:
			if id := w.child(c, k.ident); id >= 0 {
				w.addImport(Import{Local: w.text(id), Module: mod, Name: "*", TypeOnly: typeOnly})
			}
		case k.namedImports:
			for s := t.First[c]; s >= 0; s = t.Next[s] {
				if t.Sym[s] != k.importSpec {
					continue
				}
				nm := w.field(s, k.fName)
				if nm < 0 {
					continue
				}
				name := w.text(nm)
				if v, ok := w.strValue(nm); ok {
					name = v
				}
				local := name
				if a := w.field(s, k.fAlias); a >= 0 {
					local = w.text(a)
				}
				w.addImport(Import{Local: local, Module: mod, Name: name, TypeOnly: typeOnly || w.hasAnon(s, k.typeKw)})
			}
		}
	}
}

func (w *walker) exportStmt(n int32) {
	k, t := w.k, w.t
	mod, ok := w.strValue(w.field(n, k.fSource))
	if !ok {
		return
	}
	if w.hasAnon(n, k.typeKw) {
		return
	}
	clause := w.child(n, k.exportClause)
	if clause < 0 {
		// export * from 'm' / export * as ns from 'm'
		if ns := w.child(n, k.nsExport); ns >= 0 {
			w.f.ReExports = append(w.f.ReExports, ReExport{As: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(w.text(ns), "*")), "as")), Module: mod, Name: "*ns"})
			return
		}
		w.f.ReExports = append(w.f.ReExports, ReExport{As: "*", Module: mod, Name: "*"})
		return
	}
	for s := t.First[clause]; s >= 0; s = t.Next[s] {
		if t.Sym[s] != k.exportSpec || w.hasAnon(s, k.typeKw) {
			continue
		}
		nm := w.field(s, k.fName)
		if nm < 0 {
			continue
		}
		name := w.text(nm)
		as := name
		if a := w.field(s, k.fAlias); a >= 0 {
			as = w.text(a)
		}
		w.f.ReExports = append(w.f.ReExports, ReExport{As: as, Module: mod, Name: name})
	}
}

// returns binds a function's name to what its return statements give
// (nested functions' returns are not its own).
func (w *walker) returns(name string, body int32) {
	k, t := w.k, w.t
	var walk func(n int32)
	walk = func(n int32) {
		for c := t.First[n]; c >= 0; c = t.Next[c] {
			switch t.Sym[c] {
			case k.funcDecl, k.arrow, k.method:
				continue
			case k.ret:
				for v := t.First[c]; v >= 0; v = t.Next[v] {
					if t.Named[v] && t.Sym[v] != k.comment {
						if e := w.chain(v); e.Root != "" || e.Require != "" {
							w.f.Bindings = append(w.f.Bindings, Binding{Name: name, Value: e, Func: true})
						}
						break
					}
				}
				continue
			}
			walk(c)
		}
	}
	walk(body)
}
