// Package schematest holds the checks every schema-producing package runs:
// the checked-in schema equals the generated one, and real documents
// validate against it with an independent validator.
package schematest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

// root finds the repository root (the directory holding go.mod).
func root(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Drift fails unless the file at path (relative to the repository root)
// holds exactly got; with update it rewrites the file first. pkg names the
// package in the regenerate hint.
func Drift(t testing.TB, path string, got []byte, update bool, pkg string) {
	t.Helper()
	full := filepath.Join(root(t), path)
	if update {
		if err := os.WriteFile(full, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(full)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is missing or stale (%v): regenerate with go test %s -run TestSchemaDrift -update", path, err, pkg)
	}
}

// Compile compiles a schema document.
func Compile(t testing.TB, schema []byte) *jsv.Schema {
	t.Helper()
	doc, err := jsv.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsv.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Valid reports whether doc (any JSON-marshalable value, or raw JSON bytes)
// validates against s, with the validator's message when it does not.
func Valid(s *jsv.Schema, doc any) error {
	raw, ok := doc.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(doc); err != nil {
			return err
		}
	}
	inst, err := jsv.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}
