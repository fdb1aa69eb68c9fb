package lock

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaPath is where the schema of the lock file is checked in, relative to
// the repository root.
const SchemaPath = "schemas/assay-lock.schema.json"

// Schema returns the JSON Schema of assay.lock as we write it, generated
// from Lock; a test compares it with the checked-in file.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true}
	s := r.Reflect(&Lock{})
	s.ID = "https://github.com/assay-dev/assay/" + SchemaPath
	s.Title = "assay.lock"
	s.Description = "Lock file written by `assay lock write|init` (lock_version 1.0, pack-format.md §7): the built-in cards and their claim_set_hash values, the pack format and the signer policy that `verify-pack --lock` enforces."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal lock schema: %w", err)
	}
	return append(b, '\n'), nil
}
