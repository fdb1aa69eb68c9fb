package flows

import "github.com/assay-dev/assay/schemas"

// SchemaPath is where the schema of Doc is checked in.
const SchemaPath = "schemas/flow-result.schema.json"

// Schema returns the JSON Schema of Doc ('assay flow NAME --json', the MCP
// run-flow tool's structuredContent), generated from the Go type.
func Schema() ([]byte, error) {
	return schemas.Generate(&Doc{}, SchemaPath, "assay flow result",
		"Output of `assay flow NAME [--apply] --json` and the structuredContent of the MCP run-flow tool: the plan (status dry_run, applied false) or the outcome of running it (ok or failed, applied true).")
}
