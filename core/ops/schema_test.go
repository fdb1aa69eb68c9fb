package ops

import (
	"flag"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite the success schemas under schemas/ from the Go types")

// The checked-in success schemas are the ones the Go types generate. (Each
// command's real --json output is validated against them in
// tools.TestCLIAndMCPParity, which runs every command.)
func TestSchemaDrift(t *testing.T) {
	all, err := Schemas()
	if err != nil {
		t.Fatal(err)
	}
	for path, b := range all {
		schematest.Drift(t, path, b, *update, "./core/ops")
		schematest.Compile(t, b)
	}
}
