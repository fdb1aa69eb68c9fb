package scan

import (
	"github.com/assay-dev/assay/schemas"
)

// SchemaPath is where the schema of `assay scan --json` is checked in,
// relative to the repository root.
const SchemaPath = "schemas/scan-result.schema.json"

// Schema returns the JSON Schema of Document, generated from the Go type; a
// test keeps the checked-in copy in step.
func Schema() ([]byte, error) {
	return schemas.Generate(&Document{}, SchemaPath, "assay scan result", "Output of `assay scan --json` (the reference's document). status: ok, or blocked under --ci; scan_status: pass, warn or fail. summary high/medium/low count uninstrumented findings.")
}
