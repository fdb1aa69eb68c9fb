package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveConfinesPaths(t *testing.T) {
	t.Parallel()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	outside, _ := filepath.EvalSymlinks(t.TempDir())
	mustWrite(t, filepath.Join(root, "in", "f"), []byte("x"))
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in", filepath.Join(root, "alias")); err != nil {
		t.Fatal(err)
	}
	// os.Root semantics: an absolute link is refused even when it points
	// inside the root, as are relative links that climb out.
	if err := os.Symlink(filepath.Join(root, "in"), filepath.Join(root, "absalias")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../..", filepath.Join(root, "in", "up")); err != nil {
		t.Fatal(err)
	}
	// Out and back in: the target is inside, but the link leaves the root
	// on the way, which os.Root refuses.
	if err := os.Symlink("../../"+filepath.Base(root), filepath.Join(root, "in", "back")); err != nil {
		t.Fatal(err)
	}
	r, err := newRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{
		".":                   root,
		"in/f":                filepath.Join(root, "in", "f"),
		"in/../in/f":          filepath.Join(root, "in", "f"),
		root + "/in/new/deep": filepath.Join(root, "in", "new", "deep"),
		"alias/f":             filepath.Join(root, "in", "f"),
		"alias/not-yet/there": filepath.Join(root, "in", "not-yet", "there"),
		"in/./f":              filepath.Join(root, "in", "f"),
		root + "/../" + filepath.Base(root) + "/in": filepath.Join(root, "in"),
	}
	for in, want := range ok {
		got, err := r.resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"..", "../x", "in/../../x", "/", "/etc/passwd", outside, "out", "out/x", "out/new/deeper", "", "~/x", root + "/../x",
		"absalias", "absalias/f", "absalias/new", "in/up", "in/up/x", "in/back", "in/back/in/f", "in/back/new"}
	for _, in := range bad {
		if got, err := r.resolve(in); err == nil {
			t.Errorf("resolve(%q) = %q, want an error", in, got)
		} else if !strings.Contains(err.Error(), "outside the allowed roots") && !strings.Contains(err.Error(), "empty path") && !strings.Contains(err.Error(), "starts with ~") {
			t.Errorf("resolve(%q): unhelpful error %v", in, err)
		}
	}
}
