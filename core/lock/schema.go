package lock

import (
	"github.com/assay-dev/assay/schemas"
)

// SchemaPath is where the schema of the lock file is checked in, relative to
// the repository root.
const SchemaPath = "schemas/assay-lock.schema.json"

// Schema returns the JSON Schema of assay.lock as we write it, generated
// from Lock; a test compares it with the checked-in file.
func Schema() ([]byte, error) {
	return schemas.Generate(&Lock{}, SchemaPath, "assay.lock", "Lock file written by `assay lock write|init` (lock_version 1.0, pack-format.md §7): the built-in cards and their claim_set_hash values, the pack format and the signer policy that `verify-pack --lock` enforces.")
}
