package patch

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"slices"
	"strconv"
	"testing"
)

// The generated Go helper must compile in the user's package: every package
// it names is imported and every import is used. (A template edit once
// dropped "sync"; only the slow end-to-end patch test caught it.)
func TestGoHelperImportsWhatItUses(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), GoHelperFile, goHelper("main"), 0)
	if err != nil {
		t.Fatalf("generated helper does not parse: %v", err)
	}
	imported := map[string]bool{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		imported[path.Base(p)] = false
	}
	var missing []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		// An identifier the file does not declare is a package name.
		if x, ok := sel.X.(*ast.Ident); ok && x.Obj == nil {
			if _, ok := imported[x.Name]; ok {
				imported[x.Name] = true
			} else if !slices.Contains(missing, x.Name) {
				missing = append(missing, x.Name)
			}
		}
		return true
	})
	if len(missing) > 0 {
		t.Errorf("helper uses packages it does not import: %v", missing)
	}
	for name, used := range imported {
		if !used {
			t.Errorf("helper imports %q but does not use it", name)
		}
	}
}
