package diff

import (
	"github.com/assay-dev/assay/schemas"
)

// SchemaPath is where the schema of Result is checked in, relative to the
// repository root.
const SchemaPath = "schemas/diff.schema.json"

// Schema returns the JSON Schema of Result (what `assay diff --json` and
// `--report x.json` print), generated from the Go type so the two cannot
// drift apart; a test compares it with the checked-in file.
func Schema() ([]byte, error) {
	return schemas.Generate(&Result{}, SchemaPath, "assay diff result", "Output of `assay diff --json` ("+SchemaVersion+"). exit_code: 0 clean, 1 claim regression or gate failure, 2 integrity failure in a preflight; bad input (3) prints no result.")
}
