package scan

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// walk visits the tree under the root as fs.WalkDir(root.FS(), ".", fn)
// does (same order, entries, types and errors handed to fn) without the
// lstat that os.Root's ReadDir makes for every entry: types come from
// getdents, and each directory is opened with one openat2 the kernel
// confines beneath the root, following no link. ok is false when that is
// not available; the caller then walks with fs.WalkDir.
func (r *fastReader) walk(fn fs.WalkDirFunc) (ok bool, err error) {
	if r == nil || r.root == nil {
		return false, nil
	}
	fd, err := r.openDir(".")
	if err != nil {
		return false, nil // fs.WalkDir reports it as before
	}
	unix.Close(fd)
	err = r.walkDir(".", dirEntry{name: ".", typ: fs.ModeDir}, fn, make([]byte, 1<<15))
	if err == fs.SkipDir || err == fs.SkipAll {
		err = nil
	}
	return true, err
}

// walkDir is fs.WalkDir's walkDir over readDir.
func (r *fastReader) walkDir(name string, d fs.DirEntry, fn fs.WalkDirFunc, buf []byte) error {
	if err := fn(name, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	dirs, err := r.readDir(name, buf)
	if err != nil {
		if err = fn(name, d, err); err != nil {
			if err == fs.SkipDir && d.IsDir() {
				err = nil
			}
			return err
		}
	}
	for _, d1 := range dirs {
		if err := r.walkDir(path.Join(name, d1.Name()), d1, fn, buf); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	return nil
}

func (r *fastReader) openDir(name string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(r.fd, name, &how)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readDir lists a directory sorted by name, as os.Root's ReadDir does.
func (r *fastReader) readDir(name string, buf []byte) ([]fs.DirEntry, error) {
	fd, err := r.openDir(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var out []fs.DirEntry
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: name, Err: err}
		}
		if n <= 0 {
			break
		}
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 19 || off+reclen > n {
				return nil, &fs.PathError{Op: "readdirent", Path: name, Err: unix.EIO}
			}
			typ := buf[off+18]
			nm := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(nm, 0); i >= 0 {
				nm = nm[:i]
			}
			off += reclen
			if string(nm) == "." || string(nm) == ".." {
				continue
			}
			e := dirEntry{name: string(nm)}
			switch typ {
			case unix.DT_DIR:
				e.typ = fs.ModeDir
			case unix.DT_REG:
			case unix.DT_LNK:
				e.typ = fs.ModeSymlink
			case unix.DT_FIFO:
				e.typ = fs.ModeNamedPipe
			case unix.DT_SOCK:
				e.typ = fs.ModeSocket
			case unix.DT_CHR:
				e.typ = fs.ModeDevice | fs.ModeCharDevice
			case unix.DT_BLK:
				e.typ = fs.ModeDevice
			default: // DT_UNKNOWN: ask
				var st unix.Stat_t
				if err := unix.Fstatat(fd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
					return nil, &fs.PathError{Op: "lstat", Path: path.Join(name, e.name), Err: err}
				}
				e.typ = modeType(st.Mode)
			}
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func modeType(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
}

// dirEntry is a name and type from getdents; the walk needs no more.
type dirEntry struct {
	name string
	typ  fs.FileMode
}

func (e dirEntry) Name() string               { return e.name }
func (e dirEntry) IsDir() bool                { return e.typ.IsDir() }
func (e dirEntry) Type() fs.FileMode          { return e.typ }
func (e dirEntry) Info() (fs.FileInfo, error) { return dirInfo(e), nil }

// dirInfo answers Info from the entry alone (name and type; no size or time).
type dirInfo dirEntry

func (i dirInfo) Name() string       { return i.name }
func (i dirInfo) Size() int64        { return 0 }
func (i dirInfo) Mode() fs.FileMode  { return i.typ }
func (i dirInfo) ModTime() time.Time { return time.Time{} }
func (i dirInfo) IsDir() bool        { return i.typ.IsDir() }
func (i dirInfo) Sys() any           { return nil }
