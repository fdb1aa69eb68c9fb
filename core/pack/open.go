package pack

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// Reading a pack. Open is the one way into a pack from outside: a pack
// directory, or an audit bundle (.tar.gz) extracted safely into a private
// temp directory. Every file is then opened through the pack's os.Root, so
// no path or symlink can lead a read outside the pack, whatever changes
// between a check and the open; and only regular files are read. A FIFO
// would block a reader on open or read, a device would feed it without
// end: both are bad input (exit 3), refused before any byte is read.

// Read limits for the small files readers parse whole.
const (
	MaxManifestBytes  = 64 << 20
	MaxReportBytes    = 64 << 20
	MaxSignatureBytes = 4 << 10
)

// Pack is an opened proof pack. Its Manifest is what the pack's manifest
// says, read but not verified: core/verify checks it. Close releases the
// root and, for a bundle, removes the extracted copy.
type Pack struct {
	// Path is what the caller opened (a directory or a bundle file).
	Path string
	// Dir is the directory the pack's files are read from: Path itself,
	// or the pack inside a bundle's extracted copy.
	Dir string
	// Bundle is set when Path is an audit bundle.
	Bundle bool
	// Manifest is the typed manifest (Manifest.Attestation, Manifest.Files)
	// and the object it was read from.
	Manifest *Doc
	// ManifestBytes are the manifest's exact bytes.
	ManifestBytes []byte

	root    *os.Root
	cleanup func()
}

// Attestation is the manifest's attestation (zero fields when it has none).
func (p *Pack) Attestation() *Attestation { return &p.Manifest.Attestation }

// Files are the manifest's hash-covered files.
func (p *Pack) Files() []FileEntry { return p.Manifest.Files }

// Root is the pack directory's os.Root (valid until Close).
func (p *Pack) Root() *os.Root { return p.root }

// Close releases the pack; a bundle's extracted copy is removed.
func (p *Pack) Close() error {
	if p == nil {
		return nil
	}
	var err error
	if p.root != nil {
		err = p.root.Close()
		p.root = nil
	}
	if p.cleanup != nil {
		p.cleanup()
		p.cleanup = nil
	}
	return err
}

// Open opens the pack directory or audit bundle at path and reads its
// manifest. Errors are bad input (exit 3) when nothing at path is a pack
// (missing, not a directory or bundle, no manifest, a manifest that is not
// a regular file or links out, an unsafe bundle), and tampering (exit 2)
// when the manifest is there but is not a JSON object. On error nothing
// stays open.
func Open(path string) (*Pack, error) { return openIn(path, "") }

// openIn is Open with bundles extracted under tmpBase ("": os.TempDir()).
func openIn(path, tmpBase string) (*Pack, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, exit.Bad("check the path", "pack not found: %s", path)
	}
	if st.IsDir() {
		return OpenDir(path)
	}
	if !IsBundle(path) {
		return nil, exit.Bad("give the pack directory, or an audit bundle .tar.gz", "not a pack directory or audit bundle: %s", path)
	}
	dir, cleanup, err := extractTemp(path, tmpBase)
	if err != nil {
		return nil, err
	}
	p, err := OpenDir(dir)
	if err != nil {
		cleanup()
		return nil, err
	}
	p.Path, p.Bundle, p.cleanup = path, true, cleanup
	return p, nil
}

// OpenDir opens the pack directory dir (never a bundle) and reads its
// manifest, with Open's errors.
func OpenDir(dir string) (*Pack, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, exit.Bad("check the path", "pack not found: %s", dir)
	}
	if !st.IsDir() {
		if IsBundle(dir) {
			return nil, exit.Bad("extract an audit bundle first: mkdir pack && tar xzf "+dir+" -C pack", "%s is a gzip archive; this command needs the pack directory", dir)
		}
		return nil, exit.Bad("give the pack directory", "not a pack directory: %s", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "cannot open pack directory %s: %v", dir, fsutil.Reason(err))
	}
	p := &Pack{Path: dir, Dir: dir, root: root}
	raw, err := p.readManifest()
	if err == nil {
		p.ManifestBytes = raw
		p.Manifest, err = ParseManifest(raw)
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	return p, nil
}

func (p *Pack) readManifest() ([]byte, error) {
	if err := p.Preflight([]string{FileManifest}); err != nil {
		return nil, err
	}
	raw, err := p.ReadFile(FileManifest, MaxManifestBytes)
	switch {
	case err == nil:
		return raw, nil
	case IsRefused(err):
		return nil, err
	case errors.Is(err, fs.ErrNotExist):
		return nil, exit.Bad("a proof pack directory holds pack_manifest.json; build one with 'assay proof-pack' or 'assay run'", "no %s in %s", FileManifest, p.Dir)
	}
	return nil, exit.Bad("a pack's manifest is a readable file; check the path and its permissions",
		"cannot read %s: %v", filepath.Join(p.Dir, FileManifest), fsutil.Reason(err))
}

// notRegular is the exit-3 error for a pack entry that is not a regular
// file.
func (p *Pack) notRegular(name string, m fs.FileMode) error {
	return exit.Bad("a pack holds regular files only; rebuild it or copy its files into a fresh directory",
		"refusing to read %s in pack %s: it is a %s, not a regular file", name, p.Dir, kindOf(m))
}

// IsRefused reports whether err is Open/OpenFile refusing a pack entry
// (bad input, exit 3) rather than a file that is missing or unreadable.
func IsRefused(err error) bool {
	var e *exit.Error
	return errors.As(err, &e) && e.Code == exit.BadInput
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

// irregular reports a mode no reader may open.
func irregular(m fs.FileMode) bool {
	return m&(fs.ModeNamedPipe|fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket|fs.ModeIrregular) != 0
}

// OpenFile opens name for reading inside the pack. The open never blocks
// (a FIFO opened non-blocking returns at once) and the opened file's own
// mode decides: anything but a regular file is refused unread (an
// IsRefused error). A missing file or one linking out of the pack is the
// os.Root error.
func (p *Pack) OpenFile(name string) (*os.File, error) {
	f, err := p.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
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
		return nil, p.notRegular(name, st.Mode())
	}
	if st.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	return f, nil
}

// ReadFile reads a whole small file of the pack, at most limit bytes; a
// longer file is an error (it is not what the pack format writes there).
func (p *Pack) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := p.OpenFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// Preflight refuses (exit 3) a pack whose named entries include a FIFO, a
// device or a socket, before anything is opened. Links are followed only
// inside the pack; a missing or escaping name is the caller's to report.
func (p *Pack) Preflight(names []string) error {
	for _, n := range names {
		if n == "" {
			continue
		}
		st, err := p.root.Stat(n)
		if err != nil {
			continue
		}
		if irregular(st.Mode()) {
			return p.notRegular(n, st.Mode())
		}
	}
	return nil
}
