package score

import (
	"flag"
	"testing"
	"time"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite the checked-in schemas from the Go types")

// The checked-in schemas are the generated ones, and real documents (an
// empty repository, a full-marks one, a failed gate with a baseline)
// validate against them.
func TestSchemaDrift(t *testing.T) {
	empty, full := newRepo(t), newRepo(t)
	full.file("app.py", pyPatched).lock().workflow().pack("proof_pack_ci")
	var results []*Result
	for _, r := range []*repo{empty, full} {
		res, err := Compute(r.dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	gen := []struct {
		path string
		fn   func() ([]byte, error)
		docs []any
	}{
		{SchemaPath, Schema, []any{results[0], results[1]}},
		{GateSchemaPath, GateSchema, func() []any {
			g1, _ := Gate(results[0], GateOptions{MinScore: 50, FailOnRegression: true, Baseline: BaselineOf(results[1], time.Now())})
			g2, _ := Gate(results[1], GateOptions{FailOnRegression: true, BaselinePath: BaselineFile})
			return []any{g1, g2}
		}()},
		{BaselineSchemaPath, BaselineSchema, []any{&SaveResult{Command: "gate save-baseline", Status: "ok", Path: "x", Baseline: *BaselineOf(results[0], time.Now())}}},
	}
	for _, g := range gen {
		got, err := g.fn()
		if err != nil {
			t.Fatal(err)
		}
		schematest.Drift(t, g.path, got, *update, "./core/score")
		sch := schematest.Compile(t, got)
		for i, d := range g.docs {
			if err := schematest.Valid(sch, d); err != nil {
				t.Errorf("%s: document %d does not validate: %v", g.path, i, err)
			}
		}
	}
}
