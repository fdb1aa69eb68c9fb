package mcpproxy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/assay-dev/assay/schemas"
)

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
// type; a test keeps the checked-in copy in step. The report holds both
// pack.Result and claims.Result (the pack's claim results): the claims
// one is named ClaimResult so the two definitions do not collide.
func ReportSchema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true, Namer: func(t reflect.Type) string {
		if t.Name() == "Result" && strings.HasSuffix(t.PkgPath(), "/core/claims") {
			return "ClaimResult"
		}
		return t.Name()
	}}
	s := r.Reflect(&Report{})
	s.ID = jsonschema.ID(schemas.BaseURL + ReportSchemaPath)
	s.Title = "assay mcp-proxy session report"
	s.Description = "End-of-session report of `assay mcp-proxy --json`, written to stderr (stdout carries only the MCP protocol). exit_code: 0 complete session, 1 incomplete session or evidence that could not be written; bad input (3) prints one JSON error document instead."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema %s: %w", ReportSchemaPath, err)
	}
	return append(b, '\n'), nil
}
