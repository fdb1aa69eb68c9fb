package signer

import (
	"github.com/assay-dev/assay/schemas"
)

// SchemaPath is where the schema of Report is checked in, relative to the
// repository root.
const SchemaPath = "schemas/verify-signer.schema.json"

// Schema returns the JSON Schema of Report (what `assay verify-signer
// --json` prints), generated from the Go type; a test compares it with the
// checked-in file.
func Schema() ([]byte, error) {
	return schemas.Generate(&Report{}, SchemaPath, "assay verify-signer result", "Output of `assay verify-signer --json`. exit_code: 0 signature valid and every comparison matches, 1 a comparison does not match, 2 the signature does not verify or the pack's files no longer match the signed manifest; bad input (3) prints no result.")
}
