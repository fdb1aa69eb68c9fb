package verify

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
)

// Every pack file is opened through the pack's os.Root, so no path or
// symlink can lead a read outside the pack, whatever changes between a
// check and the open; and only regular files are read. A FIFO would block
// the verifier on open or read, a device would feed it without end: both
// are bad input (exit 3), refused before any byte is read.

// Read limits for the small files the verifier parses whole.
const (
	maxManifestBytes  = 64 << 20
	maxReportBytes    = 16 << 20
	maxSignatureBytes = 4 << 10
)

// packFS opens files of one pack directory.
type packFS struct {
	dir  string
	root *os.Root
}

// notRegularError is a pack entry that is not a regular file or directory.
type notRegularError struct {
	name string
	mode fs.FileMode
}

func (e *notRegularError) Error() string {
	return fmt.Sprintf("%s is a %s, not a regular file", e.name, kindOf(e.mode))
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// irregular reports a mode the verifier must not open.
func irregular(m fs.FileMode) bool {
	return m&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket|fs.ModeIrregular) != 0
}

// refuse is the exit-3 error for a pack entry that is not a regular file.
func refuse(dir string, e *notRegularError) error {
	return exit.Bad("a pack holds regular files only; rebuild it or copy its files into a fresh directory",
		"refusing to read %s in pack %s: it is a %s, not a regular file", e.name, dir, kindOf(e.mode))
}

// open opens name for reading inside the pack. The open never blocks (a
// FIFO opened non-blocking returns at once) and the opened file's own mode
// decides: anything but a regular file or directory is refused unread.
func (p *packFS) open(name string) (*os.File, error) {
	f, err := p.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if irregular(st.Mode()) {
		f.Close()
		return nil, &notRegularError{name: name, mode: st.Mode()}
	}
	if st.IsDir() {
		f.Close()
		return nil, errors.New("is a directory")
	}
	return f, nil
}

// readSmall reads a whole small file, at most limit bytes; a longer file
// is an error (it is not what the pack format writes there).
func (p *packFS) readSmall(name string, limit int64) ([]byte, error) {
	f, err := p.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// preflight refuses (exit 3) a pack whose named entries include a FIFO, a
// device or a socket, before anything is opened. Links are followed only
// inside the pack (a link out is the path checks' business).
func (p *packFS) preflight(names []string) error {
	for _, n := range names {
		if n == "" {
			continue
		}
		st, err := p.root.Stat(n)
		if err != nil {
			continue // missing or escaping: the stages report it
		}
		if irregular(st.Mode()) {
			return refuse(p.dir, &notRegularError{name: n, mode: st.Mode()})
		}
	}
	return nil
}

// openPack opens the pack directory and reads its manifest through the
// root. Errors are bad input (exit 3) when the directory or manifest is
// missing, not a regular file or links out of the pack, and tampering
// (exit 2) when the manifest exists but is not a JSON object.
func openPack(dir string) (*packFS, *canon.Object, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		// pack.ReadManifest words these cases (missing, a gzip bundle, a
		// file) without opening anything inside a pack.
		_, _, err := pack.ReadManifest(dir)
		if err == nil {
			err = exit.Bad("give the pack directory", "not a pack directory: %s", dir)
		}
		return nil, nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, exit.Bad("check the path and its permissions", "cannot open pack directory %s: %v", dir, unwrapPath(err))
	}
	p := &packFS{dir: dir, root: root}
	if err := p.preflight([]string{pack.FileManifest}); err != nil {
		root.Close()
		return nil, nil, err
	}
	raw, err := p.readSmall(pack.FileManifest, maxManifestBytes)
	if err != nil {
		root.Close()
		var nr *notRegularError
		switch {
		case errors.As(err, &nr):
			return nil, nil, refuse(dir, nr)
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, exit.Bad("a proof pack directory holds pack_manifest.json; build one with 'assay proof-pack' or 'assay run'", "no %s in %s", pack.FileManifest, dir)
		}
		return nil, nil, exit.Bad("a pack's manifest is a readable file; check the path and its permissions",
			"cannot read %s: %v", filepath.Join(dir, pack.FileManifest), unwrapPath(err))
	}
	v, err := canon.Decode(raw)
	if err != nil {
		return p, nil, exit.New(exit.Tampered, "", "%s is not valid JSON: %v", pack.FileManifest, err)
	}
	obj, ok := v.(*canon.Object)
	if !ok {
		return p, nil, exit.New(exit.Tampered, "", "%s is not a JSON object", pack.FileManifest)
	}
	return p, obj, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// OpenPackFile opens name inside the pack directory dir for reading, the
// way the verifier does: through the pack's os.Root (no path or link out
// of the pack), non-blocking, regular files only (a FIFO or device is bad
// input, exit 3). For commands that read a pack after verifying it.
func OpenPackFile(dir, name string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "cannot open pack directory %s: %v", dir, unwrapPath(err))
	}
	defer root.Close() // an open file outlives its root
	p := &packFS{dir: dir, root: root}
	f, err := p.open(name)
	var nr *notRegularError
	if errors.As(err, &nr) {
		return nil, refuse(dir, nr)
	}
	return f, err
}

// ReadPackManifest reads and decodes dir's manifest as Verify does
// (errors: exit 3 for bad input, exit 2 for a manifest that is not a JSON
// object).
func ReadPackManifest(dir string) (*canon.Object, error) {
	p, man, err := openPack(dir)
	if p != nil {
		p.root.Close()
	}
	return man, err
}
