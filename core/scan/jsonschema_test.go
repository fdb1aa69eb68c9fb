package scan

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/pyjson"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite schemas/scan-result.schema.json from the Go type")

// The checked-in schema matches the Go type; the reference's scan.json and
// our documents (Python and Go trees) validate against it.
func TestSchemaDrift(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/scan")
	sch := schematest.Compile(t, got)
	ref, _ := os.ReadFile(filepath.Join(refDir, "scan.json"))
	docs := [][]byte{ref}
	for _, dir := range []string{"../../testdata/scan/python", "../../testdata/scan/golang"} {
		r, err := Scan(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pyjson.Indent(r.Document("ok"))
		docs = append(docs, b)
	}
	for i, d := range docs {
		if err := schematest.Valid(sch, d); err != nil {
			t.Errorf("document %d does not validate: %v", i, err)
		}
	}
}
