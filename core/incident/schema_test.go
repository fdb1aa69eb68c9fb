package incident

import (
	"flag"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite the checked-in schema from the Go type")

// The checked-in schema is the generated one, and real replays (against
// the recorded decisions and against a current policy) validate.
func TestSchemaDrift(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/incident")
	sch := schematest.Compile(t, got)
	dir := record(t, nil, false, session)
	cand := writePolicy(t, "tools:\n  deny: [\"get_*\"]\n  constraints:\n    record_action:\n      deny_patterns: [\"x\"]\n")
	for _, o := range []Options{{}, {Current: writePolicy(t, "mode: enforce\n")}} {
		r, err := Replay(dir, cand, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := schematest.Valid(sch, r); err != nil {
			t.Errorf("replay (baseline %s) does not validate: %v", r.Baseline, err)
		}
	}
}
