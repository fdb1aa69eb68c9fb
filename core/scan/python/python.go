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
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	sitter "github.com/tree-sitter/go-tree-sitter"
	tspython "github.com/tree-sitter/tree-sitter-python/bindings/go"

	"github.com/assay-dev/assay/core/scan/internal/tsflat"
	"github.com/assay-dev/assay/internal/lazyre"
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
	p     *sitter.Parser // the Go bindings, for HeaderEnd
	c     *tsflat.Parser // one-call parse and flatten, for Parse
	kinds kindIDs
}

var lang = sitter.NewLanguage(tspython.Language())

// NewParser returns a parser; its C memory is freed when it is collected.
func NewParser() *Parser {
	p := sitter.NewParser()
	if err := p.SetLanguage(lang); err != nil {
		panic(fmt.Sprintf("python: tree-sitter grammar: %v", err))
	}
	np := &Parser{p: p, c: tsflat.NewParser(tspython.Language(), "python"), kinds: newKindIDs()}
	runtime.AddCleanup(np, func(sp *sitter.Parser) { sp.Close() }, p)
	return np
}

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
	t, hasErr, err := p.c.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSkip, err)
	}
	if hasErr {
		return nil, fmt.Errorf("%w: syntax error", ErrSkip)
	}
	w := walker{src: src, k: &p.kinds, t: t, fields: &fieldIDs}
	w.visit(0)
	if w.py2 {
		return nil, fmt.Errorf("%w: Python 2 syntax", ErrSkip)
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
		if (n == 0 && strings.HasPrefix(l, "#!")) || codingCookie().MatchString(l) {
			n++
			continue
		}
		break
	}
	return n, true
}

var codingCookie = lazyre.New(`^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+`)
