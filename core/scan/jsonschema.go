package scan

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaPath is where the schema of `assay scan --json` is checked in,
// relative to the repository root.
const SchemaPath = "schemas/scan-result.schema.json"

// Schema returns the JSON Schema of Document, generated from the Go type; a
// test keeps the checked-in copy in step.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true}
	s := r.Reflect(&Document{})
	s.ID = "https://github.com/assay-dev/assay/" + SchemaPath
	s.Title = "assay scan result"
	s.Description = "Output of `assay scan --json` (the reference's document). status: ok, or blocked under --ci; scan_status: pass, warn or fail. summary high/medium/low count uninstrumented findings."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal scan schema: %w", err)
	}
	return append(b, '\n'), nil
}
