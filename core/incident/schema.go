package incident

import "github.com/assay-dev/assay/schemas"

// SchemaPath is where the schema of Result is checked in, relative to the
// repository root.
const SchemaPath = "schemas/incident-replay.schema.json"

// Schema returns the JSON Schema of Result (`assay incident replay
// --json`), generated from the Go type; a test compares it with the
// checked-in file.
func Schema() ([]byte, error) {
	return schemas.Generate(&Result{}, SchemaPath, "assay incident replay result",
		"Output of `assay incident replay --json`: each recorded MCP tool call with its recorded decision and a candidate policy's, and the counts of calls the candidate would newly deny or allow. Exit code 0; a tampered pack (2) and bad input (3) print the error envelope.")
}
