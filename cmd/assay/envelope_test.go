package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/schemas"
	"github.com/assay-dev/assay/schemas/schematest"
)

var updateSchemas = flag.Bool("update", false, "rewrite the checked-in schemas from the Go types")

// The one --json error envelope: its schema is generated from jsonErrorDoc,
// and the error documents of different commands (generic, run's with the
// reference's error names, scan's with the reference's tool field, a
// declined prompt) all validate against it. run's success document has its
// schema too.
func TestJSONEnvelopes(t *testing.T) {
	errSchema, err := schemas.Generate(&jsonErrorDoc{}, "schemas/error.schema.json", "assay --json error",
		"The one error document every assay command prints with --json when it fails before printing its own: command, status \"error\", error (the problem: a short name where the reference has one, e.g. no_receipts_emitted, else the sentence), message (the sentence), fix (what to do), exit_code (3 bad input, 1 honest failure or declined prompt, 2 tampered). Commands may add fields (run: trace_id, hints; scan: tool).")
	if err != nil {
		t.Fatal(err)
	}
	// Commands may add fields to the envelope.
	errSchema = bytes.Replace(errSchema, []byte(`"additionalProperties": false`), []byte(`"additionalProperties": true`), 1)
	schematest.Drift(t, "schemas/error.schema.json", errSchema, *updateSchemas, "./cmd/assay")
	runSchema, err := schemas.Generate(&runSummary{}, "schemas/run-result.schema.json", "assay run --json",
		"The document 'assay run --json' prints when it built a pack: the reference's fields (exit_code is the child's) plus child_exit_code, the pack's verdict and verdict_exit_code, run_exit_code and exit_code_from (child or run).")
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, "schemas/run-result.schema.json", runSchema, *updateSchemas, "./cmd/assay")

	sch := schematest.Compile(t, errSchema)
	_, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	os.WriteFile(filepath.Join(dir, "assay.lock"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("from openai import OpenAI\nOpenAI().chat.completions.create(model='x', messages=[])\n"), 0o644)
	for _, argv := range [][]string{
		{"verify-pack", "nope", "--json"},
		{"lock", "write", "--cards", "receipt_completeness", "--json"},
		{"run", "--json", "--", "no-such-command-i16"},
		{"run", "--json", "--", "true"},
		{"scan", "nope", "--json"},
		{"patch", ".", "--json"},
		{"flow", "audit", "--apply", "--json"},
	} {
		code, out, _ := ckRun(t, argv...)
		if code == 0 {
			t.Errorf("%v succeeded", argv)
			continue
		}
		if err := schematest.Valid(sch, []byte(out)); err != nil {
			t.Errorf("%v: error document does not fit the envelope: %v\n%s", argv, err, out)
		}
	}
}
