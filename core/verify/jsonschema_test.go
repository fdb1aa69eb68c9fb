package verify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/assay-dev/assay/core/claims"
)

var update = flag.Bool("update", false, "rewrite schemas/verify-result.schema.json from the Go type")

func TestSchemaDrift(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", SchemaPath)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./core/verify -run TestSchemaDrift -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: regenerate with go test ./core/verify -run TestSchemaDrift -update", SchemaPath)
	}
}

// Real results (pass, honest fail, tampered, schema failure) validate
// against the schema with an independent validator.
func TestResultsValidateAgainstSchema(t *testing.T) {
	raw, _ := Schema()
	doc, err := jsv.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsv.NewCompiler()
	if err := c.AddResource("verify.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("verify.json")
	if err != nil {
		t.Fatal(err)
	}
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
		b, _ := json.Marshal(r)
		inst, err := jsv.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
}
