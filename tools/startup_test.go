package tools

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// Input schemas compile on a tool's first call, not at start, so a schema
// that does not compile must be caught here rather than by the first user.
func TestInputSchemasCompile(t *testing.T) {
	t.Parallel()
	for _, exec := range []bool{false, true} {
		for _, tl := range Tools(exec) {
			if _, err := tl.validator.get(tl.Name, tl.InputSchema); err != nil {
				t.Errorf("%s (allow-exec %v): %v", tl.Name, exec, err)
			}
		}
	}
}

// The meta-schemas are compiled on first use (the patched
// third_party/jsonschema), not at init; schemas are still checked against
// them, also when the first compiles race each other.
func TestSchemaCompileChecksMetaSchemaLazily(t *testing.T) {
	t.Parallel()
	cases := []struct {
		schema string
		ok     bool
	}{
		{`{"type": "object", "properties": {"a": {"type": "string"}}}`, true},
		{`{"type": 12}`, false},
		{`{"properties": {"a": {"minLength": -1}}}`, false},
		{`{"required": "a"}`, false},
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		for _, c := range cases {
			wg.Go(func() {
				_, err := compileSchemaErr("t", json.RawMessage(c.schema))
				if (err == nil) != c.ok {
					t.Errorf("compile %s: err %v, want ok=%v", c.schema, err, c.ok)
				}
				if err != nil && !strings.Contains(err.Error(), "schema of t") {
					t.Errorf("compile %s: error %q does not name the schema", c.schema, err)
				}
			})
		}
	}
	wg.Wait()
}

// BenchmarkTools is the cost of building the tool table, paid at every
// server start.
func BenchmarkTools(b *testing.B) {
	for b.Loop() {
		_ = Tools(false)
	}
}

// BenchmarkNew is a server from New to ready, before any client message.
func BenchmarkNew(b *testing.B) {
	home, root := b.TempDir(), b.TempDir()
	for b.Loop() {
		if _, err := New(Config{Home: home, Roots: []string{root}, Log: zerolog.Nop()}); err != nil {
			b.Fatal(err)
		}
	}
}
