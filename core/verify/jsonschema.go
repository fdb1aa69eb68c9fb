package verify

import (
	"github.com/assay-dev/assay/schemas"
)

// SchemaPath is where the schema of Result is checked in, relative to the
// repository root.
const SchemaPath = "schemas/verify-result.schema.json"

// Schema returns the JSON Schema of Result (what `verify-pack --json`
// prints), generated from the Go type; a test keeps the checked-in copy in
// step.
func Schema() ([]byte, error) {
	return schemas.Generate(&Result{}, SchemaPath, "assay verify-pack result", "Output of `assay verify-pack --json`. exit_code: 0 PASS, 1 HONEST_FAIL (intact evidence of a failed claim or gate), 2 TAMPERED (or lock not satisfied); bad input (3) prints one error line and no result.")
}
