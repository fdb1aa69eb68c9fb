package python

import (
	"strings"

	"github.com/assay-dev/assay/core/scan/internal/tsflat"
	"github.com/assay-dev/assay/internal/lazyre"
)

// fieldIDs are the grammar's numeric field names the walk looks up.
var fieldIDs = struct {
	function, arguments, attribute, object, value, key, name, moduleName uint16
}{
	function: lang.FieldIdForName("function"), arguments: lang.FieldIdForName("arguments"),
	attribute: lang.FieldIdForName("attribute"), object: lang.FieldIdForName("object"),
	value: lang.FieldIdForName("value"), key: lang.FieldIdForName("key"),
	name: lang.FieldIdForName("name"), moduleName: lang.FieldIdForName("module_name"),
}

type walker struct {
	src    []byte
	k      *kindIDs
	t      *tsflat.Tree
	fields *struct {
		function, arguments, attribute, object, value, key, name, moduleName uint16
	}
	f   File
	py2 bool
}

func (w *walker) text(n int32) string { return string(w.src[w.t.Start[n]:w.t.End[n]]) }

// named returns n's named children that are not comments.
func (w *walker) named(n int32) []int32 {
	var out []int32
	for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
		if w.t.Named[c] && w.t.Sym[c] != w.k.comment {
			out = append(out, c)
		}
	}
	return out
}

// field returns n's first child with the field id, or -1.
func (w *walker) field(n int32, id uint16) int32 {
	for c := w.t.First[n]; c >= 0; c = w.t.Next[c] {
		if w.t.Field[c] == id {
			return c
		}
	}
	return -1
}

// visit walks n in the order CPython's ast.NodeVisitor would reach the same
// constructs, so findings on one line come out in the reference's order.
func (w *walker) visit(n int32) {
	k, t := w.k, w.t
	switch t.Sym[n] {
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
		if py2Int().MatchString(w.text(n)) {
			w.py2 = true
		}
		return
	case k.str:
		// Python 2 ur"" strings and `repr` backticks (which the grammar
		// parses as strings).
		text := w.text(n)
		if p := strings.ToLower(prefixOf(text)); strings.HasPrefix(text, "`") || (strings.Contains(p, "u") && strings.Contains(p, "r")) {
			w.py2 = true
		}
	case k.exceptClause:
		// Python 2 "except E, e:".
		for c := t.First[n]; c >= 0; c = t.Next[c] {
			if !t.Named[c] && w.text(c) == "," {
				w.py2 = true
			}
		}
	case k.call:
		fn := w.field(n, w.fields.function)
		name := ""
		if fn >= 0 {
			name = w.callee(fn)
		}
		w.f.Calls = append(w.f.Calls, Call{Name: name, Line: int(t.Row[n]) + 1})
		if fn >= 0 {
			w.visit(fn)
		}
		if args := w.field(n, w.fields.arguments); args >= 0 {
			if t.Sym[args] == k.argList {
				// ast.Call visits positional (and *starred) args before keywords.
				kids := w.named(args)
				for _, a := range kids {
					if id := t.Sym[a]; id != k.keywordArg && id != k.dictSplat {
						w.visit(a)
					}
				}
				for _, a := range kids {
					if id := t.Sym[a]; id == k.keywordArg || id == k.dictSplat {
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
		if kids := w.named(n); len(kids) == 3 {
			w.visit(kids[1])
			w.visit(kids[0])
			w.visit(kids[2])
			return
		}
	case k.dictionary:
		// ast.Dict visits all keys, then all values (a ** splat is a value).
		kids := w.named(n)
		for _, c := range kids {
			if t.Sym[c] == k.pair {
				if key := w.field(c, w.fields.key); key >= 0 {
					w.visit(key)
				}
			}
		}
		for _, c := range kids {
			if t.Sym[c] == k.pair {
				if v := w.field(c, w.fields.value); v >= 0 {
					w.visit(v)
				}
			} else {
				w.visit(c)
			}
		}
		return
	}
	for c := t.First[n]; c >= 0; c = t.Next[c] {
		if t.Named[c] {
			w.visit(c)
		}
	}
}

// callee builds the dotted call string of a callee expression (§1.3).
func (w *walker) callee(n int32) string {
	k, t := w.k, w.t
	switch t.Sym[n] {
	case k.identifier:
		return w.text(n)
	case k.attribute:
		attr := w.field(n, w.fields.attribute)
		if attr < 0 {
			return ""
		}
		name := w.text(attr)
		if obj := w.field(n, w.fields.object); obj >= 0 {
			if s := w.callee(obj); s != "" {
				return s + "." + name
			}
		}
		return name
	case k.subscript:
		if v := w.field(n, w.fields.value); v >= 0 {
			return w.callee(v)
		}
	case k.paren:
		if kids := w.named(n); len(kids) == 1 {
			return w.callee(kids[0])
		}
	}
	return ""
}

func (w *walker) imports(n int32) {
	k, t := w.k, w.t
	switch t.Sym[n] {
	case k.importStmt:
		for _, c := range w.named(n) {
			name := c
			if t.Sym[c] == k.aliased {
				if nm := w.field(c, w.fields.name); nm >= 0 {
					name = nm
				}
			}
			w.f.Imports = append(w.f.Imports, Import{Module: dotted(w.text(name))})
		}
	case k.importFrom, k.futureImport:
		imp := Import{From: true}
		mod := int32(-1)
		if t.Sym[n] == k.futureImport {
			imp.Module = "__future__"
		} else if mod = w.field(n, w.fields.moduleName); mod >= 0 {
			s := w.text(mod)
			if t.Sym[mod] == k.relative {
				s = trimDots(s)
			}
			imp.Module = dotted(s)
		}
		for _, c := range w.named(n) {
			if c == mod {
				continue
			}
			switch t.Sym[c] {
			case k.wildcard:
				imp.Names = append(imp.Names, "*")
			case k.aliased:
				if nm := w.field(c, w.fields.name); nm >= 0 {
					imp.Names = append(imp.Names, dotted(w.text(nm)))
				}
			case k.dotted:
				imp.Names = append(imp.Names, dotted(w.text(c)))
			}
		}
		w.f.Imports = append(w.f.Imports, imp)
	}
}

var py2Int = lazyre.New(`^(0[0-9_]*[1-9][0-9_]*|[0-9][0-9_]*[lL])$`)

// prefixOf returns a string literal's prefix letters (before the quote).
func prefixOf(s string) string {
	i := strings.IndexAny(s, "'\"")
	if i < 0 {
		return ""
	}
	return s[:i]
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
	if !strings.ContainsAny(s, " \t\n\\#") {
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
