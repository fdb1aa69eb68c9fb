// Package python parses Python source with tree-sitter and extracts what the
// scanner's rules look at: every call (its dotted callee string and start
// line, in CPython ast visit order) and every import. Files CPython would
// reject are refused with ErrSkip, so the rules see the same files the
// reference's ast.parse accepts (scanner.md §1.1, §7).
package python

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	sitter "github.com/tree-sitter/go-tree-sitter"
	tspython "github.com/tree-sitter/tree-sitter-python/bindings/go"
)

// Call is one call expression.
type Call struct {
	Name string // dotted callee string; "" when the callee has none (§1.3)
	Line int    // 1-based start line of the call
}

// Import is one imported module and its names.
type Import struct {
	Module string   // dotted module, leading dots of a relative import removed
	Names  []string // from-import names ("*" for a wildcard); nil for "import M"
	From   bool
}

// File is what the rules need from one source file.
type File struct {
	Calls   []Call
	Imports []Import
}

// ErrSkip is wrapped by every reason a file is not analysed (the reference
// skips such files silently).
var ErrSkip = errors.New("file skipped")

// Parser turns source bytes into a File. A Parser is not safe for
// concurrent use; Parse (the package function) pools them.
type Parser struct {
	p      *sitter.Parser
	kinds  kindIDs
	cursor *sitter.TreeCursor
}

var lang = sitter.NewLanguage(tspython.Language())

// NewParser returns a parser; Close releases its C memory.
func NewParser() *Parser {
	p := sitter.NewParser()
	if err := p.SetLanguage(lang); err != nil {
		panic(fmt.Sprintf("python: tree-sitter grammar: %v", err))
	}
	return &Parser{p: p, kinds: newKindIDs()}
}

// Close frees the parser.
func (p *Parser) Close() { p.p.Close() }

var pool = sync.Pool{New: func() any { return NewParser() }}

// Parse parses src with a pooled parser.
func Parse(src []byte) (*File, error) {
	p := pool.Get().(*Parser)
	defer pool.Put(p)
	return p.Parse(src)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Parse parses one file. It returns an error wrapping ErrSkip when CPython's
// ast.parse (as run by the reference) would not accept the file: invalid
// UTF-8, a BOM, a NUL byte, a syntax error, or Python 2 print/exec
// statements.
func (p *Parser) Parse(src []byte) (*File, error) {
	if err := Acceptable(src); err != nil {
		return nil, err
	}
	src = normalizeNewlines(src)
	tree := p.p.Parse(src, nil)
	if tree == nil {
		return nil, fmt.Errorf("%w: parser gave no tree", ErrSkip)
	}
	defer tree.Close()
	root := tree.RootNode()
	if root.HasError() {
		return nil, fmt.Errorf("%w: syntax error", ErrSkip)
	}
	w := walker{src: src, k: &p.kinds}
	w.visit(root)
	if w.py2 {
		return nil, fmt.Errorf("%w: Python 2 print/exec statement", ErrSkip)
	}
	return &w.f, nil
}

// Acceptable runs the byte-level checks of Parse (BOM, NUL, UTF-8).
func Acceptable(src []byte) error {
	switch {
	case bytes.HasPrefix(src, bom):
		return fmt.Errorf("%w: starts with a UTF-8 BOM", ErrSkip)
	case bytes.IndexByte(src, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", ErrSkip)
	case !utf8.Valid(src):
		return fmt.Errorf("%w: not valid UTF-8", ErrSkip)
	}
	return nil
}

// normalizeNewlines applies universal newlines: CRLF and lone CR become LF.
func normalizeNewlines(src []byte) []byte {
	if bytes.IndexByte(src, '\r') < 0 {
		return src
	}
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\r' {
			out = append(out, '\n')
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// kindIDs caches the grammar's numeric node kinds, so the walk compares
// integers instead of allocating kind strings through cgo.
type kindIDs struct {
	call, attribute, identifier, subscript, paren, comment        uint16
	argList, keywordArg, dictSplat, conditional, dictionary, pair uint16
	importStmt, importFrom, futureImport, aliased, dotted         uint16
	relative, wildcard, printStmt, execStmt, genExp               uint16
	exceptClause, integer, str                                    uint16
}

func newKindIDs() kindIDs {
	id := func(s string) uint16 { return lang.IdForNodeKind(s, true) }
	return kindIDs{
		call: id("call"), attribute: id("attribute"), identifier: id("identifier"),
		subscript: id("subscript"), paren: id("parenthesized_expression"), comment: id("comment"),
		argList: id("argument_list"), keywordArg: id("keyword_argument"), dictSplat: id("dictionary_splat"),
		conditional: id("conditional_expression"), dictionary: id("dictionary"), pair: id("pair"),
		importStmt: id("import_statement"), importFrom: id("import_from_statement"),
		futureImport: id("future_import_statement"), aliased: id("aliased_import"),
		dotted: id("dotted_name"), relative: id("relative_import"), wildcard: id("wildcard_import"),
		printStmt: id("print_statement"), execStmt: id("exec_statement"), genExp: id("generator_expression"),
		exceptClause: id("except_clause"), integer: id("integer"), str: id("string"),
	}
}

type walker struct {
	src []byte
	k   *kindIDs
	f   File
	py2 bool
}

// named returns n's named children that are not comments.
func (w *walker) named(n *sitter.Node) []*sitter.Node {
	c := n.NamedChildCount()
	out := make([]*sitter.Node, 0, c)
	for i := uint(0); i < c; i++ {
		ch := n.NamedChild(i)
		if ch == nil || ch.KindId() == w.k.comment {
			continue
		}
		out = append(out, ch)
	}
	return out
}

// visit walks n in the order CPython's ast.NodeVisitor would reach the same
// constructs, so findings on one line come out in the reference's order.
func (w *walker) visit(n *sitter.Node) {
	k := w.k
	switch n.KindId() {
	case k.comment:
		return
	case k.printStmt, k.execStmt:
		w.py2 = true
		return
	case k.importStmt, k.importFrom, k.futureImport:
		w.imports(n)
		return
	case k.integer:
		// Python 2 octal (0777) and long (10L) literals.
		if t := n.Utf8Text(w.src); py2Int.MatchString(t) {
			w.py2 = true
		}
		return
	case k.str:
		// Python 2 ur"" strings and `repr` backticks (which the grammar
		// parses as strings).
		text := n.Utf8Text(w.src)
		if t := strings.ToLower(prefixOf(text)); strings.HasPrefix(text, "`") || (strings.Contains(t, "u") && strings.Contains(t, "r")) {
			w.py2 = true
		}
	case k.exceptClause:
		// Python 2 "except E, e:".
		for i := uint(0); i < n.ChildCount(); i++ {
			if c := n.Child(i); c != nil && !c.IsNamed() && c.Kind() == "," {
				w.py2 = true
			}
		}
	case k.call:
		fn := n.ChildByFieldName("function")
		name := ""
		if fn != nil {
			name = w.callee(fn)
		}
		w.f.Calls = append(w.f.Calls, Call{Name: name, Line: int(n.StartPosition().Row) + 1})
		if fn != nil {
			w.visit(fn)
		}
		if args := n.ChildByFieldName("arguments"); args != nil {
			if args.KindId() == k.argList {
				// ast.Call visits positional (and *starred) args before keywords.
				kids := w.named(args)
				for _, a := range kids {
					if id := a.KindId(); id != k.keywordArg && id != k.dictSplat {
						w.visit(a)
					}
				}
				for _, a := range kids {
					if id := a.KindId(); id == k.keywordArg || id == k.dictSplat {
						w.visit(a)
					}
				}
			} else {
				w.visit(args)
			}
		}
		return
	case k.conditional:
		// ast.IfExp fields: test, body, orelse.
		kids := w.named(n)
		if len(kids) == 3 {
			w.visit(kids[1])
			w.visit(kids[0])
			w.visit(kids[2])
			return
		}
	case k.dictionary:
		// ast.Dict visits all keys, then all values (a ** splat is a value).
		kids := w.named(n)
		for _, c := range kids {
			if c.KindId() == k.pair {
				if key := c.ChildByFieldName("key"); key != nil {
					w.visit(key)
				}
			}
		}
		for _, c := range kids {
			if c.KindId() == k.pair {
				if v := c.ChildByFieldName("value"); v != nil {
					w.visit(v)
				}
			} else {
				w.visit(c)
			}
		}
		return
	}
	c := n.NamedChildCount()
	for i := uint(0); i < c; i++ {
		if ch := n.NamedChild(i); ch != nil {
			w.visit(ch)
		}
	}
}

var py2Int = regexp.MustCompile(`^(0[0-9_]*[1-9][0-9_]*|[0-9][0-9_]*[lL])$`)

// prefixOf returns a string literal's prefix letters (before the quote).
func prefixOf(s string) string {
	i := strings.IndexAny(s, "'\"")
	if i < 0 {
		return ""
	}
	return s[:i]
}

// callee builds the dotted call string of a callee expression (§1.3).
func (w *walker) callee(n *sitter.Node) string {
	k := w.k
	switch n.KindId() {
	case k.identifier:
		return n.Utf8Text(w.src)
	case k.attribute:
		attr := n.ChildByFieldName("attribute")
		if attr == nil {
			return ""
		}
		name := attr.Utf8Text(w.src)
		if obj := n.ChildByFieldName("object"); obj != nil {
			if s := w.callee(obj); s != "" {
				return s + "." + name
			}
		}
		return name
	case k.subscript:
		if v := n.ChildByFieldName("value"); v != nil {
			return w.callee(v)
		}
	case k.paren:
		kids := w.named(n)
		if len(kids) == 1 {
			return w.callee(kids[0])
		}
	}
	return ""
}

func (w *walker) imports(n *sitter.Node) {
	k := w.k
	switch n.KindId() {
	case k.importStmt:
		for _, c := range w.named(n) {
			name := c
			if c.KindId() == k.aliased {
				if nm := c.ChildByFieldName("name"); nm != nil {
					name = nm
				}
			}
			w.f.Imports = append(w.f.Imports, Import{Module: dotted(name.Utf8Text(w.src))})
		}
	case k.importFrom, k.futureImport:
		imp := Import{From: true}
		if n.KindId() == k.futureImport {
			imp.Module = "__future__"
		} else if m := n.ChildByFieldName("module_name"); m != nil {
			t := m.Utf8Text(w.src)
			if m.KindId() == k.relative {
				t = trimDots(t)
			}
			imp.Module = dotted(t)
		}
		mod := n.ChildByFieldName("module_name")
		for _, c := range w.named(n) {
			if mod != nil && c.StartByte() == mod.StartByte() && c.KindId() == mod.KindId() {
				continue
			}
			switch c.KindId() {
			case k.wildcard:
				imp.Names = append(imp.Names, "*")
			case k.aliased:
				if nm := c.ChildByFieldName("name"); nm != nil {
					imp.Names = append(imp.Names, dotted(nm.Utf8Text(w.src)))
				}
			case k.dotted:
				imp.Names = append(imp.Names, dotted(c.Utf8Text(w.src)))
			}
		}
		w.f.Imports = append(w.f.Imports, imp)
	}
}

func trimDots(s string) string {
	i := 0
	for i < len(s) && (s[i] == '.' || s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return s[i:]
}

// dotted drops whitespace, backslash continuations and comments a dotted
// name may span ("a . b" is legal Python and means "a.b").
func dotted(s string) string {
	if !bytes.ContainsAny([]byte(s), " \t\n\\#") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
		case '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// HeaderEnd returns the 0-based line before which an import may be
// inserted without breaking the file: after the module docstring and any
// `from __future__` imports when there are some, otherwise after a leading
// shebang and encoding cookie. ok is false when src does not parse.
func HeaderEnd(src []byte) (line int, ok bool) {
	src = normalizeNewlines(src)
	p := pool.Get().(*Parser)
	defer pool.Put(p)
	tree := p.p.Parse(src, nil)
	if tree == nil {
		return 0, false
	}
	defer tree.Close()
	root := tree.RootNode()
	if root.HasError() {
		return 0, false
	}
	end := -1
	first := true
	for i := uint(0); i < root.ChildCount(); i++ {
		c := root.Child(i)
		switch c.Kind() {
		case "comment":
			continue
		case "expression_statement":
			if first && c.NamedChildCount() == 1 {
				s := c.NamedChild(0)
				if k := s.Kind(); k == "string" || k == "concatenated_string" {
					t := strings.ToLower(s.Utf8Text(src))
					if !strings.HasPrefix(t, "f") && !strings.HasPrefix(t, "b") && !strings.HasPrefix(t, "rb") && !strings.HasPrefix(t, "br") {
						end = int(c.EndPosition().Row)
						first = false
						continue
					}
				}
			}
		case "future_import_statement":
			end = int(c.EndPosition().Row)
			first = false
			continue
		}
		break
	}
	if end >= 0 {
		return end + 1, true
	}
	// No docstring or future import: keep a shebang and an encoding cookie
	// (which must stay on lines 1-2) above the insertion.
	lines := strings.SplitN(string(src), "\n", 3)
	n := 0
	for n < len(lines) && n < 2 {
		l := lines[n]
		if (n == 0 && strings.HasPrefix(l, "#!")) || codingCookie.MatchString(l) {
			n++
			continue
		}
		break
	}
	return n, true
}

var codingCookie = regexp.MustCompile(`^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+`)
