package coverage

import (
	"github.com/assay-dev/assay/schemas"
)

// SchemaPath is where the contract's schema is checked in, relative to the
// repository root.
const SchemaPath = "schemas/coverage-contract.schema.json"

// Schema returns the JSON Schema of a coverage contract, generated from the
// Go type; a test keeps the checked-in copy in step.
func Schema() ([]byte, error) {
	return schemas.Generate(&Contract{}, SchemaPath, "assay coverage contract", "Written by `assay scan --emit-contract FILE`; read by `assay verify-pack --coverage-contract FILE`. callsite_id = first 12 hex of sha256(\"<path>:<line>\"); contract_hash = sha256 hex of the canonical JSON of call_sites.")
}
