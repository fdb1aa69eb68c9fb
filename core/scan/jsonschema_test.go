package scan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/assay-dev/assay/core/coverage"
)

var update = flag.Bool("update", false, "rewrite schemas/scan-result.schema.json from the Go type")

// The checked-in schema matches the Go type; the reference's scan.json and
// our documents (Python and Go trees) validate against it.
func TestSchemaDrift(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", SchemaPath)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is missing or stale (%v): regenerate with go test ./core/scan -run TestSchemaDrift -update", SchemaPath, err)
	}
	doc, _ := jsv.UnmarshalJSON(bytes.NewReader(got))
	c := jsv.NewCompiler()
	c.AddResource("scan.json", doc)
	sch, err := c.Compile("scan.json")
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := os.ReadFile(filepath.Join(refDir, "scan.json"))
	docs := [][]byte{ref}
	for _, dir := range []string{"../../testdata/scan/python", "../../testdata/scan/golang"} {
		r, err := Scan(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := coverage.PyIndent(r.Document("ok"))
		docs = append(docs, b)
	}
	for i, d := range docs {
		inst, err := jsv.UnmarshalJSON(bytes.NewReader(d))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("document %d does not validate: %v", i, err)
		}
	}
}
