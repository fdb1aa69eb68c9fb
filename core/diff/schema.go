package diff

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaPath is where the schema of Result is checked in, relative to the
// repository root.
const SchemaPath = "schemas/diff.schema.json"

// Schema returns the JSON Schema of Result (what `assay diff --json` and
// `--report x.json` print), generated from the Go type so the two cannot
// drift apart; a test compares it with the checked-in file.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true, RequiredFromJSONSchemaTags: false}
	s := r.Reflect(&Result{})
	s.ID = "https://github.com/assay-dev/assay/" + SchemaPath
	s.Title = "assay diff result"
	s.Description = "Output of `assay diff --json` (" + SchemaVersion + "). exit_code: 0 clean, 1 claim regression or gate failure, 2 integrity failure in a preflight; bad input (3) prints no result."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal diff schema: %w", err)
	}
	return append(b, '\n'), nil
}
