package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write errors name the problem with the target, never the temp file.
func TestWriteFileAtomicErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing", "x.json"), "directory " + filepath.Join(dir, "missing") + " does not exist"},
		{filepath.Join(file, "x.json"), file + " is not a directory"},
		{filepath.Join(dir, "sub"), filepath.Join(dir, "sub") + " is a directory"},
	} {
		err := WriteFileAtomic(c.path, []byte("data"), 0o644)
		if err == nil || err.Error() != c.want || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("%s: error %v, want %q", c.path, err, c.want)
		}
	}
	// Nothing half-written is left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("left behind: %v", ents)
	}
	ok := filepath.Join(dir, "ok.json")
	if err := WriteFileAtomic(ok, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(ok); string(b) != "data" {
		t.Fatalf("content %q", b)
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := os.ReadFile(dir)
	if got := Reason(err); got == nil || strings.Contains(got.Error(), dir) {
		t.Fatalf("Reason(%v) = %v", err, got)
	}
}

// TestResolvePartial: symlinks in the existing prefix are followed; the
// missing rest is joined on as written.
func TestResolvePartial(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		{filepath.Join(dir, "link"), real},
		{filepath.Join(dir, "link", "sub"), filepath.Join(real, "sub")},
		{filepath.Join(dir, "link", "missing", "deeper"), filepath.Join(real, "missing", "deeper")},
		{filepath.Join(dir, "link", "file", "below"), filepath.Join(real, "file", "below")},
		{filepath.Join(dir, "nothing", "here"), filepath.Join(dir, "nothing", "here")},
	}
	for _, tc := range cases {
		got, err := ResolvePartial(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ResolvePartial(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
