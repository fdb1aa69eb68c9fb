// Package fsutil holds the small file-system helpers every writer shares:
// atomic writes (temp file, fsync, rename) and directory checks.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/assay-dev/assay/core/exit"
)

// WriteFileAtomic writes data to path through a temp file in the same
// directory, fsyncs it and renames it into place, so readers never see a
// half-written file. The directory is opened once (os.Root) and the temp
// file and the rename both go through it, so a directory swapped for a
// link meanwhile cannot redirect the write.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	root, name, err := OpenParent(path)
	if err != nil {
		return err
	}
	defer root.Close()
	return WriteFileAtomicIn(root, name, data, perm)
}

// OpenParent opens path's directory as a root and returns the file's name
// in it. Its error says in plain words what is wrong with the directory.
func OpenParent(path string) (*os.Root, string, error) {
	dir := filepath.Dir(path)
	root, err := os.OpenRoot(dir)
	if err == nil {
		return root, filepath.Base(path), nil
	}
	st, serr := os.Stat(dir)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return nil, "", fmt.Errorf("directory %s does not exist", dir)
	case serr == nil && !st.IsDir(), errors.Is(err, syscall.ENOTDIR):
		return nil, "", fmt.Errorf("%s is not a directory", dir)
	case errors.Is(err, fs.ErrPermission):
		return nil, "", fmt.Errorf("directory %s is not readable", dir)
	}
	return nil, "", fmt.Errorf("cannot open directory %s: %v", dir, Reason(err))
}

// CreateTemp creates the temp file that will be renamed to path, in path's
// directory. Its error says in plain words what is wrong with that
// directory (missing, not a directory, not writable) instead of naming
// the temp file.
func CreateTemp(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err == nil {
		return f, nil
	}
	st, serr := os.Stat(dir)
	switch {
	case os.IsNotExist(serr):
		return nil, fmt.Errorf("directory %s does not exist", dir)
	case serr == nil && !st.IsDir():
		return nil, fmt.Errorf("%s is not a directory", dir)
	case os.IsPermission(err):
		return nil, fmt.Errorf("directory %s is not writable", dir)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("cannot create a file in %s: %v", dir, pe.Err)
	}
	return nil, err
}

// IsDir reports whether path exists and is a directory.
func IsDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// Exists reports whether path exists (without following a final symlink).
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// SyncDir fsyncs a directory so a rename inside it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// Reason strips the operation and path from a *fs.PathError ("read x: is a
// directory" becomes "is a directory"), for messages that name the path
// already.
func Reason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteNew writes a file the user asked for (a workflow, a policy
// template) atomically, creating parent directories. An existing file is
// refused (exit 3, nothing written) unless force is set.
func WriteNew(path string, data []byte, force bool) error {
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return exit.Bad("name a file", "%s is a directory", path)
		}
		if !force {
			return exit.Bad("pass --force to overwrite it", "%s already exists", path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return exit.Bad("check the output path", "cannot create %s: %v", filepath.Dir(path), err)
	}
	if err := WriteFileAtomic(path, data, 0o644); err != nil {
		return exit.Bad("check the output path", "cannot write %s: %v", path, err)
	}
	return nil
}

// ResolvePartial resolves the symlinks of p's longest existing prefix and
// joins the rest on lexically, as Python's non-strict Path.resolve does: the
// one way to ask where a path that may not exist yet really points. An
// error other than "does not exist" (or a file where a directory is
// expected) is returned.
func ResolvePartial(p string) (string, error) {
	var rest []string
	cur := p
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}
