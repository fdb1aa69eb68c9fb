package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const marker = "OUTSIDE-MARKER-7f3a9c"

// tree makes root/ and outside/ side by side; outside/secret holds the
// marker.
func tree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(outside, "secret"), marker)
	write(t, filepath.Join(root, "ok.txt"), "inside")
	return root, outside
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Reads never follow a link out of the root, never open a FIFO for a
// blocking read, and refuse a file over the cap.
func TestReadFileConfined(t *testing.T) {
	t.Parallel()
	root, outside := tree(t)
	symlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "abs-link"))
	symlink(t, "../outside/secret", filepath.Join(root, "rel-link"))
	symlink(t, "../outside", filepath.Join(root, "dir-link"))
	symlink(t, "ok.txt", filepath.Join(root, "in-link"))
	symlink(t, filepath.Join(root, "ok.txt"), filepath.Join(root, "abs-in-link"))
	mkfifo(t, filepath.Join(root, "fifo"))
	write(t, filepath.Join(root, "big"), strings.Repeat("x", 101))
	for _, c := range []struct {
		name string
		max  int64
		want error // nil: read "inside"
	}{
		{"ok.txt", 0, nil},
		{"in-link", 0, nil},
		{"abs-in-link", 0, nil},
		{"abs-link", 0, ErrOutside},
		{"rel-link", 0, ErrOutside},
		{"dir-link/secret", 0, ErrOutside},
		{"../outside/secret", 0, ErrOutside},
		{"fifo", 0, ErrNotRegular},
		{"sub", 0, ErrNotRegular},
		{"big", 100, ErrTooLarge},
	} {
		got, err := ReadFileConfined(root, c.name, c.max)
		if c.want == nil {
			if err != nil || string(got) != "inside" {
				t.Errorf("%s: %q, %v", c.name, got, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
		if strings.Contains(string(got), marker) || (err != nil && strings.Contains(err.Error(), marker)) {
			t.Errorf("%s: the outside file's content leaked", c.name)
		}
	}
	if _, err := ReadFileConfined(root, "big", 101); err != nil {
		t.Errorf("a file at the cap is read: %v", err)
	}
}

// CheckTree refuses a tree with a link out of it or a non-regular file
// anywhere, and accepts links inside.
func TestCheckTree(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		make func(t *testing.T, root, outside string)
		want error
	}{
		{"plain", func(*testing.T, string, string) {}, nil},
		{"link inside", func(t *testing.T, root, _ string) { symlink(t, "../ok.txt", filepath.Join(root, "sub", "l")) }, nil},
		{"absolute link inside", func(t *testing.T, root, _ string) {
			symlink(t, filepath.Join(root, "ok.txt"), filepath.Join(root, "sub", "l"))
		}, nil},
		{"file link out", func(t *testing.T, root, outside string) {
			symlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "sub", "m.json"))
		}, ErrOutside},
		{"dir link out", func(t *testing.T, root, _ string) { symlink(t, "../outside", filepath.Join(root, "d")) }, ErrOutside},
		{"fifo", func(t *testing.T, root, _ string) { mkfifo(t, filepath.Join(root, "sub", "f")) }, ErrNotRegular},
		{"link to fifo", func(t *testing.T, root, _ string) {
			mkfifo(t, filepath.Join(root, "f"))
			symlink(t, "f", filepath.Join(root, "g"))
		}, ErrNotRegular},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, outside := tree(t)
			c.make(t, root, outside)
			err := CheckTree(root)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("CheckTree: %v, want %v", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), root) {
				t.Errorf("error names the entry relative to the tree: %v", err)
			}
		})
	}
}

// A write whose directory was swapped for a link out of the root is
// refused and nothing is written outside; a new-file write never replaces
// an existing file.
func TestWriteConfined(t *testing.T) {
	t.Parallel()
	root, outside := tree(t)
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := WriteFileAtomicIn(r, "sub/a.json", []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Swap sub for a link to outside, as an attacker racing the writer would.
	if err := os.Rename(filepath.Join(root, "sub"), filepath.Join(root, "sub.old")); err != nil {
		t.Fatal(err)
	}
	symlink(t, outside, filepath.Join(root, "sub"))
	before := listing(t, outside)
	for _, w := range []func() error{
		func() error { return WriteFileAtomicIn(r, "sub/b.json", []byte("B"), 0o644) },
		func() error { return WriteNewIn(r, "sub/c.json", []byte("C"), 0o644) },
		func() error { return WriteFileAtomicIn(r, "../outside/d.json", []byte("D"), 0o644) },
	} {
		err := w()
		if !errors.Is(err, ErrOutside) {
			t.Errorf("write through a link out of the root: %v, want ErrOutside", err)
		}
	}
	if after := listing(t, outside); after != before {
		t.Fatalf("outside changed:\n%s\nwas\n%s", after, before)
	}
	// New-file writes refuse an existing name and leave it alone.
	if err := WriteNewIn(r, "ok.txt", []byte("new"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNewIn over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "ok.txt")); string(b) != "inside" {
		t.Fatalf("existing file changed: %q", b)
	}
	if err := WriteNewIn(r, "new.txt", []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(root, "new.txt")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v %v", st, err)
	}
	// No temp file is left behind.
	for _, e := range strings.Fields(listing(t, root)) {
		if strings.Contains(e, ".tmp") {
			t.Fatalf("temp file left: %s", e)
		}
	}
}

func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
