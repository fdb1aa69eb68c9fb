package pack

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The manifest and attestation are read in one place: Open and DocOf give
// every reader typed fields. This guard fails when code outside core/pack
// looks a manifest or attestation field up by name on a generic value
// again, the way seven readers once did.
//
// The rule, over every non-test .go file of the module outside core/pack
// (and outside *test helper packages, which forge hostile packs on purpose
// and must reach members we have no typed field for):
//
//   - an index expression whose key is a string literal naming such a field
//     (m["pack_id"]), or a dotted path through one ("attestation.mode");
//   - a call of a lookup-shaped function or method (Get, String, Str, Int,
//     Lookup, Has, Field, ... on a canon.Object, a map helper, anything)
//     with such a literal as an argument (obj.String("signer_id"),
//     packs.Str(m, "attestation.claim_check")).
//
// guardedFields are the manifest's and attestation's member names, less a
// few that other documents read generically too (receipts carry run_id,
// the MCP policy and the lock's signer policy a mode, the lock file a
// claim_set_hash and pack_format_version); those stay typed in this
// package but cannot be told apart by name alone.
var guardedFields = map[string]bool{
	// manifest
	"pack_id": true, "pack_version": true, "manifest_version": true, "hash_alg": true,
	"attestation": true, "attestation_sha256": true, "suite_hash": true, "claim_set_id": true,
	"receipt_count_expected": true, "files": true, "expected_files": true,
	"signer_id": true, "signer_pubkey": true, "signer_pubkey_sha256": true,
	"signature_alg": true, "signature_scope": true, "signature": true, "pack_root_sha256": true,
	"redaction_policy_sha256": true,
	// attestation
	"fingerprint_version": true, "suite_id": true, "verifier_version": true,
	"canon_version": true, "canon_impl": true, "canon_impl_version": true, "policy_hash": true,
	"receipt_integrity": true, "claim_check": true, "discrepancy_fingerprint": true,
	"assurance_level": true, "proof_tier": true, "head_hash": true, "head_hash_algorithm": true,
	"time_authority": true, "n_receipts": true, "timestamp_start": true, "timestamp_end": true,
	"ci_binding": true, "valid_until": true, "superseded_by": true,
}

// lookupNames are callee names that read a member by key.
var lookupNames = map[string]bool{
	"Get": true, "String": true, "Str": true, "Int": true, "Int64": true, "Float": true,
	"Bool": true, "Number": true, "Lookup": true, "Has": true, "Field": true, "Value": true,
	"Member": true, "GetString": true, "strField": true, "str": true, "num": true, "field": true,
	"get": true, "member": true, "lookup": true,
}

// guardedLiteral reports whether a Go string literal names a guarded
// field, directly or as a component of a dotted path.
func guardedLiteral(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return "", false
	}
	for _, part := range strings.Split(s, ".") {
		if guardedFields[part] {
			return s, true
		}
	}
	return "", false
}

func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	case *ast.IndexExpr: // generic instantiation: Get[T](...)
		return calleeName(f.X)
	}
	return ""
}

// attributeCtor reports a call of OpenTelemetry's attribute constructors
// (attribute.String("assay.pack_id", v)): it names an exported attribute,
// it reads nothing.
func attributeCtor(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "attribute"
}

// stringLookups returns "file:line: what" for every violation in one file.
func stringLookups(fset *token.FileSet, f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.IndexExpr:
			if s, ok := guardedLiteral(x.Index); ok {
				out = append(out, fset.Position(x.Pos()).String()+": index by "+strconv.Quote(s))
			}
		case *ast.CallExpr:
			name := calleeName(x.Fun)
			if !lookupNames[name] || attributeCtor(x.Fun) {
				return true
			}
			for _, a := range x.Args {
				if s, ok := guardedLiteral(a); ok {
					out = append(out, fset.Position(x.Pos()).String()+": "+name+"("+strconv.Quote(s)+")")
				}
			}
		}
		return true
	})
	return out
}

func TestNoStringLookupOfManifestFields(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	self := filepath.Join(root, "core", "pack")
	fset := token.NewFileSet()
	var found []string
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path == self || name == "testdata" || name == "node_modules" || (path != root && strings.HasPrefix(name, ".")) ||
				(strings.HasSuffix(name, "test") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, v := range stringLookups(fset, f) {
			rel, _ := filepath.Rel(root, v)
			if rel == "" || strings.HasPrefix(rel, "..") {
				rel = v
			}
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned only %d files under %s; the walk is broken", files, root)
	}
	sort.Strings(found)
	if len(found) > 0 {
		t.Fatalf("manifest/attestation fields looked up by string outside core/pack (use pack.Open / pack.DocOf and the typed fields):\n  %s", strings.Join(found, "\n  "))
	}
}

// The rule catches each shape a reader used before the typed Pack, and
// leaves alone what is not a lookup.
func TestStringLookupRuleCatches(t *testing.T) {
	t.Parallel()
	src := `package x
func f(m map[string]any, o *canon.Object, r *R) {
	_ = m["pack_id"]
	_ = o.String("signer_id")
	_, _ = o.Get("attestation")
	_ = packs.Str(o, "attestation.claim_check")
	_ = packs.Int(o, "attestation.n_receipts")
	_ = strField(o, "attestation", "pack_id")
	_ = Get[string](o, "receipt_count_expected")
	// not lookups: a field named in an error, a key written, a struct tag
	r.addErr("E", "pack_id", "stage", "msg")
	_ = map[string]any{"files": 1}
	_ = o.String("receipt_id")
	_ = m["model"]
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := stringLookups(fset, f)
	want := []string{
		`x.go:3:6: index by "pack_id"`,
		`x.go:4:6: String("signer_id")`,
		`x.go:5:9: Get("attestation")`,
		`x.go:6:6: Str("attestation.claim_check")`,
		`x.go:7:6: Int("attestation.n_receipts")`,
		`x.go:8:6: strField("attestation")`,
		`x.go:8:6: strField("pack_id")`,
		`x.go:9:6: Get("receipt_count_expected")`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("flagged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
