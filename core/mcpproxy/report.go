package mcpproxy

import "github.com/assay-dev/assay/schemas"

// Report is the end-of-session document of `assay mcp-proxy --json`
// (written to stderr: stdout is the protocol's).
type Report struct {
	Command   string     `json:"command" jsonschema:"enum=mcp-proxy"`
	Status    string     `json:"status" jsonschema:"enum=complete,enum=incomplete"`
	ExitCode  int        `json:"exit_code" jsonschema:"enum=0,enum=1"`
	Session   *Session   `json:"session"`
	Artifacts *Artifacts `json:"artifacts,omitempty"`
	// PackNote says why no pack was built, when none was.
	PackNote string `json:"pack_note,omitempty"`
	// Error is what went wrong writing the session file or the pack.
	Error string `json:"error,omitempty"`
}

// ReportSchemaPath is where the schema of Report is checked in, relative to
// the repository root.
const ReportSchemaPath = "schemas/mcp-proxy-report.schema.json"

// ReportSchema returns the JSON Schema of Report, generated from the Go
// type; a test keeps the checked-in copy in step.
func ReportSchema() ([]byte, error) {
	return schemas.Generate(&Report{}, ReportSchemaPath, "assay mcp-proxy session report",
		"End-of-session report of `assay mcp-proxy --json`, written to stderr (stdout carries only the MCP protocol). exit_code: 0 complete session, 1 incomplete session or evidence that could not be written; bad input (3) prints one JSON error document instead.")
}
