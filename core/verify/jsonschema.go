package verify

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaPath is where the schema of Result is checked in, relative to the
// repository root.
const SchemaPath = "schemas/verify-result.schema.json"

// Schema returns the JSON Schema of Result (what `verify-pack --json`
// prints), generated from the Go type; a test keeps the checked-in copy in
// step.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true}
	s := r.Reflect(&Result{})
	s.ID = "https://github.com/assay-dev/assay/" + SchemaPath
	s.Title = "assay verify-pack result"
	s.Description = "Output of `assay verify-pack --json`. exit_code: 0 PASS, 1 HONEST_FAIL (intact evidence of a failed claim or gate), 2 TAMPERED (or lock not satisfied); bad input (3) prints one error line and no result."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal verify schema: %w", err)
	}
	return append(b, '\n'), nil
}
