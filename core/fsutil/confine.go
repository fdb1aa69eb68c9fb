package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/assay-dev/assay/core/exit"
)

// Confined reads and writes. Every path that comes from outside (a pack, a
// scanned tree, an output named by an MCP client) is opened relative to an
// *os.Root, which refuses any symlink or ".." that leaves the root at the
// moment of the open (openat, not a check followed by an open), so a
// directory swapped for a link between a check and a read or write cannot
// redirect it.

// ErrOutside is wrapped by errors for a name that links (or climbs) out of
// its root.
var ErrOutside = errors.New("links outside its directory")

// ErrNotRegular is wrapped by errors for a FIFO, device, socket or
// directory where a regular file is needed. Such a file is never read: a
// FIFO would block the reader forever.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by errors for a file over the caller's byte cap.
var ErrTooLarge = errors.New("file too large")

// openFlags opens for reading without blocking on a FIFO and without
// taking a terminal; the file's type is checked on the open descriptor.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY

// IsOutside reports whether err says a name led out of its root: os.Root's
// "path escapes from parent" or ErrOutside.
func IsOutside(err error) bool {
	if errors.Is(err, ErrOutside) {
		return true
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err != nil && pe.Err.Error() == "path escapes from parent"
	}
	return false
}

// classify turns os.Root's escape error into ErrOutside, keeping the name.
func classify(name string, err error) error {
	if err != nil && IsOutside(err) && !errors.Is(err, ErrOutside) {
		return &os.PathError{Op: "open", Path: name, Err: ErrOutside}
	}
	return err
}

// OpenIn opens name for reading inside root. A link out of the root, a
// non-regular file (FIFO, device, socket, directory) are refused; the
// type is checked on the opened descriptor, so nothing swapped in after a
// check is read.
func OpenIn(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := openFollowingAbs(root, name)
	if err != nil {
		return nil, nil, classify(name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	// O_NONBLOCK has no effect on a regular file: reads block as usual.
	return f, st, nil
}

// openFollowingAbs opens name in root. os.Root refuses every absolute
// link; one whose target lies inside the root (by the root's absolute
// name) is followed by opening that target through the root again, so it
// stays confined.
func openFollowingAbs(root *os.Root, name string) (*os.File, error) {
	return followingAbs(root, name, func(n string) (*os.File, error) { return root.OpenFile(n, openFlags, 0) })
}

// statFollowingAbs is root.Stat, following absolute links that stay in
// the root.
func statFollowingAbs(root *os.Root, name string) (fs.FileInfo, error) {
	return followingAbs(root, name, root.Stat)
}

func followingAbs[T any](root *os.Root, name string, op func(string) (T, error)) (T, error) {
	f, err := op(name)
	for hops := 0; err != nil && IsOutside(err) && hops < 8; hops++ {
		target, lerr := root.Readlink(name)
		if lerr != nil || !filepath.IsAbs(target) || !filepath.IsAbs(root.Name()) {
			return f, err
		}
		rel, rerr := filepath.Rel(root.Name(), target)
		if rerr != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return f, err
		}
		name = rel
		f, err = op(name)
	}
	return f, err
}

// ReadFileIn reads name inside root (see OpenIn), at most max bytes (0: no
// cap); a larger file is refused with ErrTooLarge, never half-read.
func ReadFileIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, st, err := OpenIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if max > 0 && st.Size() > max {
		return nil, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: %d bytes, over the cap of %d", ErrTooLarge, st.Size(), max)}
	}
	var r io.Reader = f
	if max > 0 {
		r = io.LimitReader(f, max+1) // the file may grow after the stat
	}
	// Sized from the stat, as os.ReadFile does; a file that grew is still
	// read to the cap.
	data := make([]byte, 0, st.Size()+512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: Reason(err)}
		}
	}
	if max > 0 && int64(len(data)) > max {
		return nil, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: over the cap of %d bytes", ErrTooLarge, max)}
	}
	return data, nil
}

// ReadFileConfined reads dir/name without following a link out of dir.
func ReadFileConfined(dir, name string, max int64) ([]byte, error) {
	root, err := openRootAbs(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return ReadFileIn(root, name, max)
}

// OpenConfined opens dir/name for reading without following a link out
// of dir (see OpenIn).
func OpenConfined(dir, name string) (*os.File, error) {
	root, err := openRootAbs(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close() // the opened file stays valid
	f, _, err := OpenIn(root, name)
	return f, err
}

// CheckTree refuses a directory tree holding a link out of it or a file
// that is not regular (FIFO, device, socket): readers that are given such
// a tree (a pack) refuse it whole, before reading or echoing anything.
// Links inside the tree are allowed. The first problem is returned, naming
// the entry relative to dir.
func CheckTree(dir string) error {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // absolute links into the tree are then recognised
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return checkDir(root, ".")
}

// checkDir checks the entries of dir (in root) and descends into its
// subdirectories, reading each directory in batches so memory stays small
// however many entries a hostile tree holds.
func checkDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	for {
		ents, err := d.ReadDir(256)
		for _, e := range ents {
			if err := checkEntry(root, filepath.Join(dir, e.Name()), e.Type()); err != nil {
				return err
			}
		}
		if err == io.EOF || (err == nil && len(ents) == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func checkEntry(root *os.Root, name string, t fs.FileMode) error {
	switch {
	case t.IsDir():
		return checkDir(root, name)
	case t.IsRegular():
		return nil
	case t&fs.ModeSymlink != 0:
		st, err := statFollowingAbs(root, name)
		if err != nil {
			if IsOutside(err) {
				return &os.PathError{Op: "check", Path: name, Err: ErrOutside}
			}
			return &os.PathError{Op: "check", Path: name, Err: Reason(err)}
		}
		if !st.Mode().IsRegular() && !st.IsDir() {
			return &os.PathError{Op: "check", Path: name, Err: ErrNotRegular}
		}
		return nil
	}
	return &os.PathError{Op: "check", Path: name, Err: ErrNotRegular}
}

// WriteFileAtomicIn writes data to name inside root through a temp file in
// the same directory of the root, fsynced and renamed into place. The
// directory is reached through root (openat), so a link swapped in for it
// cannot redirect the write.
func WriteFileAtomicIn(root *os.Root, name string, data []byte, perm os.FileMode) error {
	_, err := WriteStreamIn(root, name, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return err
}

// WriteNewIn is WriteFileAtomicIn for a file that must not exist yet: an
// existing name (even one created meanwhile) is refused with fs.ErrExist
// and left untouched.
func WriteNewIn(root *os.Root, name string, data []byte, perm os.FileMode) error {
	_, err := WriteStreamIn(root, name, perm, true, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return err
}

// WriteStreamIn streams fill into a temp file next to name inside root,
// fsyncs it and renames it into place (or, with noReplace, hard-links it,
// which fails on an existing name), returning the bytes written.
func WriteStreamIn(root *os.Root, name string, perm os.FileMode, noReplace bool, fill func(io.Writer) error) (int64, error) {
	name = filepath.Clean(name)
	dir, base := filepath.Split(name)
	if base == "" || base == "." || base == ".." {
		return 0, fmt.Errorf("%s is not a file name", name)
	}
	if st, err := root.Lstat(name); err == nil && st.IsDir() {
		return 0, fmt.Errorf("%s is a directory", filepath.Join(root.Name(), name))
	}
	f, tmp, err := createTempIn(root, dir, base)
	if err != nil {
		return 0, err
	}
	defer root.Remove(tmp) // no-op after a rename; drops the link after Link
	n, err := fillSync(f, perm, fill)
	if err != nil {
		return 0, err
	}
	if noReplace {
		err := root.Link(tmp, name)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, fs.ErrExist):
			return 0, &os.PathError{Op: "write", Path: filepath.Join(root.Name(), name), Err: fs.ErrExist}
		case IsOutside(err):
			return 0, classify(name, err)
		}
		// No hard links on this file system: check, then rename (the
		// check can race with a new file, never with a link out).
		if _, err := root.Lstat(name); err == nil {
			return 0, &os.PathError{Op: "write", Path: filepath.Join(root.Name(), name), Err: fs.ErrExist}
		}
	}
	if err := root.Rename(tmp, name); err != nil {
		if st, serr := root.Stat(name); serr == nil && st.IsDir() {
			return 0, fmt.Errorf("%s is a directory", filepath.Join(root.Name(), name))
		}
		return 0, classify(name, err)
	}
	return n, nil
}

func fillSync(f *os.File, perm os.FileMode, fill func(io.Writer) error) (int64, error) {
	if err := fill(f); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}

// createTempIn creates a new temp file in dir (relative to root), named
// after base, with O_EXCL.
func createTempIn(root *os.Root, dir, base string) (*os.File, string, error) {
	var last error
	for i := 0; i < 100; i++ {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.tmp%d%d", base, os.Getpid(), randSuffix()))
		f, err := root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, tmp, nil
		}
		if errors.Is(err, fs.ErrExist) {
			last = err
			continue
		}
		return nil, "", dirError(root, dir, err)
	}
	return nil, "", last
}

// dirError says in plain words what is wrong with the target directory
// (missing, not a directory, outside, not writable) instead of naming the
// temp file.
func dirError(root *os.Root, dir string, err error) error {
	shown := filepath.Join(root.Name(), dir)
	if IsOutside(err) {
		return fmt.Errorf("directory %s %w", strings.TrimSuffix(shown, string(filepath.Separator)), ErrOutside)
	}
	rel := dir
	if rel == "" {
		rel = "."
	}
	st, serr := root.Stat(rel)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist", shown)
	case serr == nil && !st.IsDir():
		return fmt.Errorf("%s is not a directory", shown)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("directory %s is not writable", shown)
	}
	return fmt.Errorf("cannot create a file in %s: %v", shown, Reason(err))
}

func randSuffix() uint32 { return rand.Uint32() }

// openRootAbs opens dir by its absolute name, so absolute links into it
// are recognised as inside.
func openRootAbs(dir string) (*os.Root, error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return os.OpenRoot(dir)
}

// CheckPackDir refuses (exit 3, nothing read) a directory — a pack —
// holding a file that links out of it or that is not a regular file; the
// message names the entry, never its content. Readers of a pack call it
// before reading anything, then read through ReadFileConfined/OpenConfined.
func CheckPackDir(dir string) error {
	err := CheckTree(dir)
	if err == nil {
		return nil
	}
	var pe *os.PathError
	name := ""
	if errors.As(err, &pe) {
		name = pe.Path
	}
	switch {
	case errors.Is(err, ErrOutside):
		return exit.Bad("a pack's files must be inside its directory; copy the real files in, or verify the original pack",
			"refused %s: %s links outside the pack", dir, name)
	case errors.Is(err, ErrNotRegular):
		return exit.Bad("a pack holds regular files only; rebuild the pack or verify the original",
			"refused %s: %s is not a regular file", dir, name)
	case errors.Is(err, fs.ErrNotExist) && name == "":
		return exit.Bad("check the path", "pack not found: %s", dir)
	}
	return exit.Bad("check the path and its permissions", "cannot read %s: %v", dir, Reason(err))
}

// PublishDirIn creates the new directory name inside root holding files
// (slash-separated names, written with perm 0644, parents created): it
// fills a sibling staging directory through root and renames it into place,
// so a reader never sees half of it and no link can redirect a write. An
// existing name is refused with fs.ErrExist.
func PublishDirIn(root *os.Root, name string, files map[string][]byte) (err error) {
	name = filepath.Clean(name)
	if _, err := root.Lstat(name); err == nil {
		return &os.PathError{Op: "publish", Path: filepath.Join(root.Name(), name), Err: fs.ErrExist}
	}
	parent := filepath.Dir(name)
	var staging string
	for i := 0; ; i++ {
		staging = filepath.Join(parent, fmt.Sprintf(".%s.staging%d", filepath.Base(name), rand.Uint32()))
		err = root.Mkdir(staging, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return dirError(root, parent, err)
		}
	}
	defer func() {
		if err != nil {
			root.RemoveAll(staging)
		}
	}()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rel := filepath.FromSlash(n)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("file name %q is not local", n)
		}
		p := filepath.Join(staging, rel)
		if d := filepath.Dir(p); d != staging {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return classify(d, err)
			}
		}
		if err := WriteNewIn(root, p, files[n], 0o644); err != nil {
			return err
		}
	}
	if _, err := root.Lstat(name); err == nil {
		return &os.PathError{Op: "publish", Path: filepath.Join(root.Name(), name), Err: fs.ErrExist}
	}
	if err := root.Rename(staging, name); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) {
			return &os.PathError{Op: "publish", Path: filepath.Join(root.Name(), name), Err: fs.ErrExist}
		}
		return classify(name, err)
	}
	return nil
}

// ReadTree reads every regular file under dir (slash-separated names) for
// PublishDirIn; links and other non-regular files are refused.
func ReadTree(dir string) (map[string][]byte, error) {
	root, err := openRootAbs(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := map[string][]byte{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return &os.PathError{Op: "read", Path: p, Err: ErrNotRegular}
		}
		b, err := ReadFileIn(root, filepath.FromSlash(p), 0)
		if err != nil {
			return err
		}
		out[p] = b
		return nil
	})
	return out, err
}

// OpenRegular opens path for reading only if it is a regular file: a FIFO
// is opened without blocking and refused (ErrNotRegular), as are devices
// and directories. The type is checked on the opened descriptor.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return f, st, nil
}
