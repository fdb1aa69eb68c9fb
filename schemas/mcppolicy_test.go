package schemas_test

import (
	"encoding/json"
	"flag"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/schemas"
	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite the checked-in schemas generated in this package")

// yamlToJSON converts a policy file to the JSON document a YAML-aware
// editor validates against the schema.
func yamlToJSON(t *testing.T, src []byte) []byte {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSchemaDriftMCPPolicy: the checked-in schema is generated from
// mcppolicy.File; the template and a full policy validate against it, and
// files the loader refuses for shape reasons are refused by the schema too.
func TestSchemaDriftMCPPolicy(t *testing.T) {
	t.Parallel()
	got, err := schemas.Generate(&mcppolicy.File{}, mcppolicy.SchemaPath, "assay.mcp-policy.yaml",
		"Policy file of `assay mcp-proxy --policy` (runtime.md §7.3, DECISIONS 19), written by `assay mcp policy init` and checked by `assay mcp policy validate`, which is the authority: it also checks glob and RE2 syntax.")
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, mcppolicy.SchemaPath, got, *update, "./schemas")
	sch := schematest.Compile(t, got)

	full := []byte(`version: "1"
server_id: fs
mode: enforce
store_args: true
store_results: false
auto_pack: true
audit_dir: .assay/mcp
tools:
  default: deny
  deny: ["delete_*"]
  allow: ["read_*"]
  constraints:
    write_file: {max_calls: 3, deny_patterns: ['"path":"/etc/']}
budget: {max_tool_calls: 10, max_wall_time_sec: 60}
`)
	for name, src := range map[string][]byte{"template": mcppolicy.Template("s"), "full": full} {
		if _, err := mcppolicy.Parse(src, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schematest.Valid(sch, yamlToJSON(t, src)); err != nil {
			t.Errorf("%s does not validate: %v", name, err)
		}
	}
	for _, src := range []string{
		"mode: enforced\n",
		"mdoe: audit\n",
		"tools: {alow: [x]}\n",
		"tools: {default: block}\n",
		"tools: {constraints: {w: {max_calls: 0}}}\n",
		"tools: {constraints: {w: {max_call: 1}}}\n",
		"budget: {max_tool_calls: -1}\n",
		"budget: {max_wall_time_sec: 2.5}\n",
		"store_args: \"yes\"\n",
		"version: \"2\"\n",
	} {
		if _, err := mcppolicy.Parse([]byte(src), "p.yaml"); err == nil {
			t.Errorf("loader accepts %q", src)
		}
		if schematest.Valid(sch, yamlToJSON(t, []byte(src))) == nil {
			t.Errorf("schema accepts %q, which the loader refuses", src)
		}
	}
}
