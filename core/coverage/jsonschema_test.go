package coverage

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite schemas/coverage-contract.schema.json from the Go type")

// The checked-in schema matches the Go type, and the reference's contract
// validates against it.
func TestSchemaDriftAndReference(t *testing.T) {
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
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is missing or stale (%v): regenerate with go test ./core/coverage -run TestSchemaDrift -update", SchemaPath, err)
	}
	doc, _ := jsv.UnmarshalJSON(bytes.NewReader(got))
	c := jsv.NewCompiler()
	c.AddResource("contract.json", doc)
	sch, err := c.Compile("contract.json")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(refContract)
	defer f.Close()
	inst, err := jsv.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("reference contract does not validate: %v", err)
	}
	bad, _ := jsv.UnmarshalJSON(bytes.NewReader([]byte(`{"contract_version":"1.0","call_sites":[{"path":"a.py"}]}`)))
	if sch.Validate(bad) == nil {
		t.Error("schema accepted a site without callsite_id")
	}
}
