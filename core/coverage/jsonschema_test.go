package coverage

import (
	"flag"
	"os"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite schemas/coverage-contract.schema.json from the Go type")

// The checked-in schema matches the Go type, and the reference's contract
// validates against it.
func TestSchemaDriftAndReference(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/coverage")
	sch := schematest.Compile(t, got)
	ref, err := os.ReadFile(refContract)
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Valid(sch, ref); err != nil {
		t.Errorf("reference contract does not validate: %v", err)
	}
	if schematest.Valid(sch, []byte(`{"contract_version":"1.0","call_sites":[{"path":"a.py"}]}`)) == nil {
		t.Error("schema accepted a site without callsite_id")
	}
}
