package lock

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/schemas/schematest"
)

var update = flag.Bool("update", false, "rewrite the checked-in schema from the Go type")

func TestSchemaDrift(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	schematest.Drift(t, SchemaPath, got, *update, "./core/lock")
	// The reference's lock and ours both validate.
	sch := schematest.Compile(t, got)
	ref, _ := os.ReadFile(filepath.Join(refDir, "assay.lock"))
	l, _ := New(refCards, []string{"0134090c9ea6be5d204a91c79d6000b78a0131c1f91c3b8485ea99030ea730aa"})
	ours, _ := l.Marshal()
	for name, b := range map[string][]byte{"reference": ref, "ours": ours} {
		if err := schematest.Valid(sch, b); err != nil {
			t.Errorf("%s lock does not validate: %v", name, err)
		}
	}
}
