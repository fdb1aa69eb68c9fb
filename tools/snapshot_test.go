package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite golden files (tools/list snapshot, schemas/tools, the README's mcp section)")

// golden compares got with the file, or rewrites the file under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		mustWrite(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tools -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s is out of date (run go test ./tools -update and review the diff)\n--- got\n%s", path, got)
	}
}

func listTools(t *testing.T) []byte { return listToolsExec(t, false) }

func listToolsExec(t *testing.T, allowExec bool) []byte {
	e := newEnv(t, func(c *Config) { c.AllowExec = allowExec })
	res, err := e.cli.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(res.Tools, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// The whole tools/list, as a client sees it, is a reviewed golden file.
func TestToolsListSnapshot(t *testing.T) {
	t.Parallel()
	got := listTools(t)
	golden(t, "testdata/tools_list.json", got)
	t.Logf("tools/list: %d tools, %d bytes", len(Registry()), len(got))
	// A server started with --allow-exec lists run-flow with apply.
	golden(t, "testdata/tools_list.allow-exec.json", listToolsExec(t, true))
}

// Schemas are checked in under schemas/tools and must match the Go types;
// the server serves the checked-in files, so they must also be what each
// tool serves.
func TestSchemasDrift(t *testing.T) {
	t.Parallel()
	files := 0
	plain := map[string][2]json.RawMessage{}
	for _, tl := range Registry() {
		in, out := tl.Reflected()
		plain[tl.Name] = [2]json.RawMessage{in, out}
		golden(t, filepath.Join("..", "schemas", "tools", tl.Name+".input.json"), append(append([]byte(nil), in...), '\n'))
		golden(t, filepath.Join("..", "schemas", "tools", tl.Name+".output.json"), append(append([]byte(nil), out...), '\n'))
		files += 2
	}
	// Tools registered differently under --allow-exec (run-flow) have
	// their own files.
	for _, tl := range Tools(true) {
		in, out := tl.Reflected()
		if p := plain[tl.Name]; !bytes.Equal(p[0], in) {
			golden(t, filepath.Join("..", "schemas", "tools", tl.Name+".allow-exec.input.json"), append(append([]byte(nil), in...), '\n'))
			files++
		}
		if p := plain[tl.Name]; !bytes.Equal(p[1], out) {
			golden(t, filepath.Join("..", "schemas", "tools", tl.Name+".allow-exec.output.json"), append(append([]byte(nil), out...), '\n'))
			files++
		}
	}
	if *update {
		return
	}
	for _, exec := range []bool{false, true} {
		for _, tl := range Tools(exec) {
			in, out := tl.Reflected()
			if !bytes.Equal(tl.InputSchema, in) || !bytes.Equal(tl.OutputSchema, out) {
				t.Errorf("%s (allow-exec %v) serves schemas other than its types' (go test ./tools -update, then rebuild)", tl.Name, exec)
			}
		}
	}
	if *update {
		return
	}
	// No stale schema files of removed tools.
	found, _ := filepath.Glob(filepath.Join("..", "schemas", "tools", "*.json"))
	if len(found) != files {
		t.Fatalf("schemas/tools has %d files, want %d (remove stale ones)", len(found), files)
	}
}

func TestToolInvariants(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	seen := map[string]bool{}
	for _, tl := range Registry() {
		if !name.MatchString(tl.Name) || seen[tl.Name] {
			t.Errorf("tool name %q must be unique and match %s", tl.Name, name)
		}
		seen[tl.Name] = true
		if tl.Title == "" || len(tl.Description) < 20 || len(tl.Description) > 400 {
			t.Errorf("%s: needs a title and a description of 20..400 chars", tl.Name)
		}
	}
}

// Every tool sets all four hints explicitly on the wire, and read-only
// tools are not destructive.
func TestEveryToolSetsAllFourAnnotations(t *testing.T) {
	t.Parallel()
	var tools []struct {
		Name        string         `json:"name"`
		Annotations map[string]any `json:"annotations"`
	}
	if err := json.Unmarshal(listTools(t), &tools); err != nil {
		t.Fatal(err)
	}
	if len(tools) != len(Registry()) {
		t.Fatalf("tools/list has %d tools, registry %d", len(tools), len(Registry()))
	}
	for _, tl := range tools {
		for _, h := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
			if _, ok := tl.Annotations[h].(bool); !ok {
				t.Errorf("%s: %s not set", tl.Name, h)
			}
		}
		if tl.Annotations["readOnlyHint"] == true && tl.Annotations["destructiveHint"] == true {
			t.Errorf("%s: read-only and destructive", tl.Name)
		}
	}
}

// No schema contains a bare true schema, a $schema key or an object
// without properties (all rejected by some clients or providers).
func TestSchemasArePortable(t *testing.T) {
	t.Parallel()
	for _, tl := range append(Registry(), Tools(true)...) {
		for kind, raw := range map[string]json.RawMessage{"input": tl.InputSchema, "output": tl.OutputSchema} {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("%s %s: %v", tl.Name, kind, err)
			}
			root, _ := v.(map[string]any)
			if root == nil || root["type"] != "object" {
				t.Errorf("%s %s schema: root must be an object schema", tl.Name, kind)
			}
			for _, p := range schemaProblems(v, "#", true) {
				t.Errorf("%s %s schema: %s", tl.Name, kind, p)
			}
		}
	}
}

// schemaProblems walks a schema; isSchema says v is in a schema position.
func schemaProblems(v any, at string, isSchema bool) []string {
	var out []string
	switch x := v.(type) {
	case bool:
		// additionalProperties:false is fine; a bare true schema is not.
		if isSchema && x {
			out = append(out, at+": bare true schema")
		}
	case map[string]any:
		if !isSchema {
			for k, sub := range x {
				out = append(out, schemaProblems(sub, at+"/"+k, true)...)
			}
			return out
		}
		if _, ok := x["$schema"]; ok {
			out = append(out, at+": $schema key")
		}
		if x["type"] == "object" {
			if _, ok := x["properties"].(map[string]any); !ok {
				out = append(out, at+": object without properties")
			}
		}
		for k, sub := range x {
			switch k {
			case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas":
				out = append(out, schemaProblems(sub, at+"/"+k, false)...)
			case "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames":
				out = append(out, schemaProblems(sub, at+"/"+k, true)...)
			case "anyOf", "oneOf", "allOf", "prefixItems":
				if arr, ok := sub.([]any); ok {
					for i, s := range arr {
						out = append(out, schemaProblems(s, at+"/"+k+"/"+string(rune('0'+i)), true)...)
					}
				}
			}
		}
	}
	return out
}

func TestSchemaProblemsCatchesBadSchemas(t *testing.T) {
	t.Parallel()
	bad := []string{
		`{"type":"object","properties":{"a":true}}`,
		`{"$schema":"x","type":"object","properties":{}}`,
		`{"type":"object","properties":{"a":{"type":"object"}}}`,
		`{"type":"object","properties":{"a":{"type":"array","items":true}}}`,
	}
	for _, b := range bad {
		var v any
		_ = json.Unmarshal([]byte(b), &v)
		if len(schemaProblems(v, "#", true)) == 0 {
			t.Errorf("no problem found in %s", b)
		}
	}
}

func TestOutputSchemaRejectsWrongShape(t *testing.T) {
	t.Parallel()
	s := compileSchema("emit.output", emitTool().OutputSchema)
	for _, doc := range []string{`{"receipt_id":"r"}`, `{"receipt_id":"r","type":"t","trace_id":"x","seq":"0","timestamp":"t"}`, `{"receipt_id":"r","type":"t","trace_id":"x","seq":0,"timestamp":"t","extra":1}`} {
		inst, _ := jsv.UnmarshalJSON(strings.NewReader(doc))
		if s.Validate(inst) == nil {
			t.Errorf("%s passed the output schema", doc)
		}
	}
}

// Clients of the handshake era (2025-11-25) get the same tools and records.
func TestLegacyEraClient(t *testing.T) {
	t.Parallel()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	srv, err := New(Config{Roots: []string{root}, Home: t.TempDir(), Transport: TransportInProcess, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := client.NewInProcessClientWithOptions(srv.MCP, client.WithProtocolVersion(mcp.ProtocolVersion20251125))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	if err := cli.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "legacy", Version: "1"}
	ir, err := cli.Initialize(ctx, init)
	if err != nil || ir.ProtocolVersion != mcp.ProtocolVersion20251125 {
		t.Fatalf("initialize: %v %+v", err, ir)
	}
	e := &env{t: t, srv: srv, cli: cli, root: root}
	lt, err := cli.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(lt.Tools) != len(Registry()) {
		t.Fatalf("tools/list: %v", err)
	}
	e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	recs := e.trace()
	if len(recs) != 2 || recs[1].String("type") != "mcp_tool_call" {
		t.Fatalf("trace %d receipts", len(recs))
	}
}
