// Command cmdlogic measures how much logic each file of a cmd/ package
// holds, so "cmd only parses flags and renders" can be checked by number.
// It counts the statements inside function bodies, leaving out the flag
// definitions (calls on a *pflag.FlagSet: f.StringVar, c.Flags().BoolVar,
// ...), and prints per file: total lines, statements, and the statements of
// the functions whose name starts with render/print/write (rendering).
//
//	go run ./scripts/cmdlogic cmd/assay
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type count struct {
	file          string
	lines, stmts  int
	render, flags int
}

func main() {
	dir := "cmd/assay"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmdlogic:", err)
		os.Exit(3)
	}
	var out []count
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cmdlogic:", err)
			os.Exit(3)
		}
		c := count{file: filepath.Base(f), lines: fset.File(af.Pos()).LineCount()}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				// init() bodies and var blocks with closures count below.
				ast.Inspect(d, func(n ast.Node) bool { tally(&c, n, false); return true })
				continue
			}
			name := strings.ToLower(fd.Name.Name)
			render := strings.HasPrefix(name, "render") || strings.HasPrefix(name, "print") || strings.HasPrefix(name, "write")
			ast.Inspect(fd.Body, func(n ast.Node) bool { tally(&c, n, render); return true })
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].stmts-out[i].render > out[j].stmts-out[j].render })
	fmt.Printf("%-22s %6s %6s %7s %7s\n", "file", "lines", "stmts", "render", "logic")
	tl, ts, tr := 0, 0, 0
	for _, c := range out {
		fmt.Printf("%-22s %6d %6d %7d %7d\n", c.file, c.lines, c.stmts, c.render, c.stmts-c.render)
		tl, ts, tr = tl+c.lines, ts+c.stmts, tr+c.render
	}
	fmt.Printf("%-22s %6d %6d %7d %7d\n", "total", tl, ts, tr, ts-tr)
}

// tally counts one statement, unless it only defines a flag.
func tally(c *count, n ast.Node, render bool) {
	s, ok := n.(ast.Stmt)
	if !ok {
		return
	}
	switch s.(type) {
	case *ast.BlockStmt, *ast.CaseClause, *ast.CommClause, *ast.EmptyStmt:
		return // containers, not statements of their own
	}
	if isFlagDef(s) {
		c.flags++
		return
	}
	c.stmts++
	if render {
		c.render++
	}
}

// isFlagDef reports whether s is a call like f.StringVar(...) or
// c.Flags().BoolVarP(...) or c.PersistentFlags().String(...).
func isFlagDef(s ast.Stmt) bool {
	var call *ast.CallExpr
	switch s := s.(type) {
	case *ast.ExprStmt:
		call, _ = s.X.(*ast.CallExpr)
	case *ast.AssignStmt:
		if len(s.Rhs) == 1 {
			call, _ = s.Rhs[0].(*ast.CallExpr)
		}
	}
	if call == nil {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	m := sel.Sel.Name
	flagMethod := strings.HasSuffix(m, "Var") || strings.HasSuffix(m, "VarP") || strings.HasSuffix(m, "P") ||
		m == "String" || m == "Bool" || m == "Int" || m == "StringArray" || m == "StringSlice" || m == "Duration" ||
		m == "MarkHidden" || m == "SetInterspersed" || m == "Float64" || m == "MarkDeprecated"
	if !flagMethod {
		return false
	}
	switch x := sel.X.(type) {
	case *ast.Ident:
		return x.Name == "f" || x.Name == "fl" || x.Name == "flags" || x.Name == "pf"
	case *ast.CallExpr:
		if s, ok := x.Fun.(*ast.SelectorExpr); ok {
			return s.Sel.Name == "Flags" || s.Sel.Name == "PersistentFlags"
		}
	}
	return false
}
