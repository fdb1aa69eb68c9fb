package ops

import (
	"github.com/assay-dev/assay/core/explain"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/schemas"
)

// The success documents of the operations whose types live here, checked
// in under schemas/ (verify, scan and diff have theirs in their packages;
// flows.Doc in flows), drift-tested against the Go types.
const (
	ExplainSchemaPath     = "schemas/explain-result.schema.json"
	EmitSchemaPath        = "schemas/emit-result.schema.json"
	BundleSchemaPath      = "schemas/bundle-result.schema.json"
	PolicyCheckSchemaPath = "schemas/policy-check.schema.json"
)

// Schemas returns each checked-in path with the schema generated from its
// Go type.
func Schemas() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, s := range []struct {
		v                 any
		path, title, desc string
		inline            bool
	}{
		{&explain.Explanation{}, ExplainSchemaPath, "assay explain result",
			"Output of `assay explain --json` and the structuredContent of the MCP explain-pack tool: what a pack records, its verdict and exit code (what verify-pack would give; explain itself exits 0), claims, and what it proves.", false},
		{&EmitResult{}, EmitSchemaPath, "assay emit result",
			"Output of `assay emit --json` and the structuredContent of the MCP emit-receipt tool: the stored receipt.", false},
		{&BundleResult{}, BundleSchemaPath, "assay pack or audit bundle result",
			"Output of `assay proof-pack --json` (kind pack) and `assay audit bundle --json` (kind audit_bundle), and the structuredContent of the MCP bundle tool (which adds resource_uri). evidence_lost counts trace lines left out of the pack (proof-pack then exits 1).", true},
		{&mcppolicy.CallCheck{}, PolicyCheckSchemaPath, "assay mcp policy check result",
			"Output of `assay mcp policy check --json` and the structuredContent of the MCP policy-check tool: the verdict on one tool call and what mcp-proxy would do with it.", false},
	} {
		gen := schemas.Generate
		if s.inline {
			// pack.Result and bundle.Result share a Go name.
			gen = schemas.GenerateInline
		}
		b, err := gen(s.v, s.path, s.title, s.desc)
		if err != nil {
			return nil, err
		}
		out[s.path] = b
	}
	return out, nil
}
