package lock

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the checked-in schema from the Go type")

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
		t.Fatalf("%v (generate it with: go test ./core/lock -run TestSchemaDrift -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: regenerate with go test ./core/lock -run TestSchemaDrift -update", SchemaPath)
	}
	// The reference's lock and ours both validate.
	sdoc, err := jsv.UnmarshalJSON(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	c := jsv.NewCompiler()
	if err := c.AddResource("lock.schema.json", sdoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("lock.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := os.ReadFile(filepath.Join(refDir, "assay.lock"))
	l, _ := New(refCards, []string{"0134090c9ea6be5d204a91c79d6000b78a0131c1f91c3b8485ea99030ea730aa"})
	ours, _ := l.Marshal()
	for name, b := range map[string][]byte{"reference": ref, "ours": ours} {
		doc, err := jsv.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s lock does not validate: %v", name, err)
		}
	}
}
