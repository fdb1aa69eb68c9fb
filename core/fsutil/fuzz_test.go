package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfinedNames: whatever name a caller passes (.., absolute paths,
// links, NULs, long names), a confined read never returns the content of
// a file outside the root, and a confined write never creates anything
// outside it.
func FuzzConfinedNames(f *testing.F) {
	for _, s := range []string{"ok.txt", "../outside/secret", "/etc/passwd", "link", "dirlink/secret", "sub/../../outside/secret",
		"abslink", "sub/x", ".", "..", "", "a\x00b", strings.Repeat("a/", 300), "sub/./../ok.txt"} {
		f.Add(s)
	}
	base := f.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "ok.txt"), []byte("inside"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte(marker), 0o644)
	os.Symlink("../outside/secret", filepath.Join(root, "link"))
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "abslink"))
	os.Symlink("../outside", filepath.Join(root, "dirlink"))
	r, err := os.OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	f.Fuzz(func(t *testing.T, name string) {
		if b, err := ReadFileIn(r, name, 1<<20); err == nil && strings.Contains(string(b), marker) {
			t.Fatalf("read %q returned the outside file", name)
		}
		if b, err := ReadFileConfined(root, name, 1<<20); err == nil && strings.Contains(string(b), marker) {
			t.Fatalf("ReadFileConfined %q returned the outside file", name)
		}
		_ = WriteNewIn(r, name, []byte("w"), 0o644)
		ents, err := os.ReadDir(outside)
		if err != nil || len(ents) != 1 {
			t.Fatalf("write %q changed the outside directory: %v %v", name, ents, err)
		}
		if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != marker {
			t.Fatalf("write %q changed the outside file", name)
		}
	})
}
