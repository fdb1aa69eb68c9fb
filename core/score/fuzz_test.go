package score

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

// A baseline file comes from the repository (possibly a pull request's):
// any bytes load as a baseline within 0..100 or are bad input, never a
// panic or another exit code.
func FuzzLoadBaseline(f *testing.F) {
	for _, s := range []string{`{"score_version":"2.0.0","score":69.9,"grade":"D","components":{"coverage":39},"saved_at":"2026-12-07T00:00:00Z"}`,
		`{"score":1e400}`, `{"score":-0}`, `{"score":null}`, `[]`, `{"score":1,"score":2}`, "\xff", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, ".assay"), 0o755)
		os.WriteFile(filepath.Join(dir, filepath.FromSlash(BaselineFile)), data, 0o644)
		b, _, err := LoadBaseline(dir, "")
		if err != nil {
			if exit.Code(err) != exit.BadInput {
				t.Fatalf("exit %d: %v", exit.Code(err), err)
			}
			return
		}
		if b == nil || b.Score < 0 || b.Score > 100 {
			t.Fatalf("accepted %+v", b)
		}
	})
}
