package diff

import (
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"

	"github.com/invopop/jsonschema"

	"github.com/assay-dev/assay/core/packs/packstest"
)

var update = flag.Bool("update", false, "rewrite schemas/diff.schema.json from the Go type")

// The checked-in schema is exactly what the Go type generates.
func TestSchemaDrift(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/diff")
}

// A real result carries every required field the schema names, and only
// fields the schema knows (the reflector forbids additional properties).
func TestResultMatchesSchema(t *testing.T) {
	t.Parallel()
	raw, _ := Schema()
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := packstest.DiffFixture(t, dir, "base")
	r, err := Compare(base, packstest.DiffFixture(t, dir, "claim_regression"), Options{Why: true, Gates: allGates})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	for _, req := range s.Required {
		if _, ok := doc[req]; !ok {
			t.Errorf("result lacks required field %q", req)
		}
	}
	for k := range doc {
		if _, ok := s.Properties.Get(k); !ok {
			t.Errorf("result field %q is not in the schema", k)
		}
	}
	if len(s.Required) < 10 {
		t.Fatalf("schema requires only %v", s.Required)
	}
	// And a full validation with an independent validator, for every
	// fixture variant (nulls, infinite gates, why chains included).
	sch := schematest.Compile(t, raw)
	empty := filepath.Join(dir, "proof_pack_nocalls")
	packstest.Build(t, empty, packstest.Generic(2), nil)
	tampered := packstest.DiffFixture(t, dir, "same")
	packstest.FlipByte(t, filepath.Join(tampered, "verify_report.json"), -1)
	var results []*Result
	for _, v := range []string{"model_swap", "cost_up", "latency_up", "errors"} {
		r, err := Compare(base, packstest.DiffFixture(t, dir, v), Options{Why: true, Gates: allGates})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	for _, pair := range [][2]string{{empty, base}, {base, tampered}} {
		r, err := Compare(pair[0], pair[1], Options{Why: true, Gates: allGates})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	results = append(results, r)
	// The validator does reject what the schema forbids.
	bad := *r
	bad.Status = "fine"
	if schematest.Valid(sch, &bad) == nil {
		t.Fatal("schema accepts status \"fine\"")
	}
	for i, r := range results {
		if err := schematest.Valid(sch, r); err != nil {
			t.Errorf("result %d (%s) does not validate: %v", i, r.Status, err)
		}
	}
}
