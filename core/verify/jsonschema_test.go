package verify

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"

	"github.com/assay-dev/assay/core/claims"
)

var update = flag.Bool("update", false, "rewrite schemas/verify-result.schema.json from the Go type")

func TestSchemaDrift(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/verify")
}

// Real results (pass, honest fail, tampered, schema failure) validate
// against the schema with an independent validator.
func TestResultsValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	raw, _ := Schema()
	sch := schematest.Compile(t, raw)
	good := buildPack(t, sampleReceipts(), nil)
	failing := buildPack(t, sampleReceipts(), []claims.Claim{{ClaimID: "x", Check: "receipt_count_ge", Params: map[string]any{"min_count": 10}, Severity: claims.Critical}})
	tampered := buildPack(t, sampleReceipts(), nil)
	os.WriteFile(filepath.Join(tampered, "verify_transcript.md"), []byte("changed"), 0o644)
	broken := buildPack(t, sampleReceipts(), nil)
	os.WriteFile(filepath.Join(broken, "pack_manifest.json"), []byte(`{"pack_id":1}`), 0o644)
	for _, dir := range []string{good, failing, tampered, broken, vec + "reference-1.24/run_pack"} {
		r, err := Verify(dir, Options{Now: fixtureNow})
		if err != nil {
			t.Fatal(err)
		}
		if err := schematest.Valid(sch, r); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
}
