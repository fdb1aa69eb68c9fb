package mcpproxy

import (
	"flag"
	"testing"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite schemas/mcp-proxy-report.schema.json from the Go type")

func TestReportSchemaDrift(t *testing.T) {
	t.Parallel()
	got, err := ReportSchema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, ReportSchemaPath, got, *update, "./core/mcpproxy")
}

// Reports of real sessions, complete and incomplete, validate against the
// schema with an independent validator.
func TestReportsValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	raw, err := ReportSchema()
	if err != nil {
		t.Fatal(err)
	}
	sch := schematest.Compile(t, raw)
	for _, crash := range []bool{false, true} {
		h := startProxy(t, nil)
		c := newLineClient(h)
		c.handshake()
		if crash {
			c.call(1, "crash", map[string]any{"code": 3})
		} else {
			c.call(1, "get_weather", map[string]any{"city": "Oslo"})
			h.closeClient()
		}
		s := h.wait()
		art, err := Finish(h.st, s, t.TempDir(), demo.EphemeralSigner("t"), "shadow")
		if err != nil {
			t.Fatal(err)
		}
		rep := Report{Command: "mcp-proxy", Status: "complete", Session: s, Artifacts: art}
		if !s.Complete {
			rep.Status, rep.ExitCode = "incomplete", 1
		}
		if s.Complete == crash {
			t.Fatalf("crash=%v: complete=%v", crash, s.Complete)
		}
		if err := schematest.Valid(sch, rep); err != nil {
			t.Fatalf("crash=%v: %v", crash, err)
		}
	}
}
