package coverage

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaPath is where the contract's schema is checked in, relative to the
// repository root.
const SchemaPath = "schemas/coverage-contract.schema.json"

// Schema returns the JSON Schema of a coverage contract, generated from the
// Go type; a test keeps the checked-in copy in step.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true}
	s := r.Reflect(&Contract{})
	s.ID = "https://github.com/assay-dev/assay/" + SchemaPath
	s.Title = "assay coverage contract"
	s.Description = "Written by `assay scan --emit-contract FILE`; read by `assay verify-pack --coverage-contract FILE`. callsite_id = first 12 hex of sha256(\"<path>:<line>\"); contract_hash = sha256 hex of the canonical JSON of call_sites."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal contract schema: %w", err)
	}
	return append(b, '\n'), nil
}
