package score

import "github.com/assay-dev/assay/schemas"

// Where the schemas of the score and gate documents are checked in,
// relative to the repository root.
const (
	SchemaPath         = "schemas/score.schema.json"
	GateSchemaPath     = "schemas/gate-check.schema.json"
	BaselineSchemaPath = "schemas/gate-save-baseline.schema.json"
)

// Schema returns the JSON Schema of Result (`assay score --json`),
// generated from the Go type; a test compares it with the checked-in file.
func Schema() ([]byte, error) {
	return schemas.Generate(&Result{}, SchemaPath, "assay score result",
		"Output of `assay score --json`: the Evidence Readiness Score (version 2.0.0, the reference's weights). Exit code 0; bad input (3) prints the error envelope.")
}

// GateSchema returns the JSON Schema of GateResult (`assay gate check
// --json` and its --save-report file).
func GateSchema() ([]byte, error) {
	return schemas.Generate(&GateResult{}, GateSchemaPath, "assay gate check result",
		"Output of `assay gate check --json` and the file --save-report writes. exit_code: 0 the gate passed, 1 the score is below --min-score or (with --fail-on-regression) below the baseline's; bad input (3) prints the error envelope.")
}

// BaselineSchema returns the JSON Schema of SaveResult (`assay gate
// save-baseline --json`).
func BaselineSchema() ([]byte, error) {
	return schemas.Generate(&SaveResult{}, BaselineSchemaPath, "assay gate save-baseline result",
		"Output of `assay gate save-baseline --json`: where the score baseline was written and what it holds. Exit code 0; an existing baseline without --force and other bad input (3) print the error envelope.")
}
