package flows

import (
	"flag"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite schemas/flow-result.schema.json from the Go type")

func TestSchemaDrift(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./flows")
}
