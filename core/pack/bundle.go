package pack

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// Audit bundles (DECISIONS 16) are extracted here and nowhere else: Open
// extracts one into a private temp directory, core/bundle's Extract into a
// directory the user names.

// BundleLimits bound what ExtractBundle writes, against archive bombs.
type BundleLimits struct {
	// MaxEntryBytes refuses an entry whose declared size is larger, before
	// any of it is written.
	MaxEntryBytes int64
	// MaxTotalBytes caps the sum of all entries' sizes.
	MaxTotalBytes int64
	// MaxEntries caps the number of entries.
	MaxEntries int
}

// DefaultBundleLimits fit any pack we build (a million receipts is well
// under 512 MiB of lines) and stop a gzip bomb long before the disk fills.
var DefaultBundleLimits = BundleLimits{MaxEntryBytes: 512 << 20, MaxTotalBytes: 1 << 30, MaxEntries: 10000}

// maxDeflateRatio is the most DEFLATE can expand its input (RFC 1951:
// 258 bytes from about 2 bits), so no honest gzip file inflates past
// input size × maxDeflateRatio; what a bundle writes is bounded by that too.
const maxDeflateRatio = 1032

// ExtractBundle unpacks a .tar.gz safely (DECISIONS 16): only regular
// files and directories; no absolute paths, no ".." components, no
// symlinks, hard links, devices or FIFOs; no entry twice; sizes within lim.
// Any violation refuses the whole bundle with a bad-input error (exit 3)
// naming the entry, and whatever was already extracted is removed, so
// nothing is ever written outside destDir and nothing half-written stays.
func ExtractBundle(tgzPath, destDir string, lim BundleLimits) (err error) {
	f, st, err := openBundle(tgzPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.MkdirAll(destDir, 0o700); err != nil {
		return exit.Bad("choose a writable destination", "cannot create %s: %v", destDir, err)
	}
	if ents, err := os.ReadDir(destDir); err != nil || len(ents) > 0 {
		return exit.Bad("extract into a new or empty directory", "destination %s is not an empty directory", destDir)
	}
	root, err := filepath.Abs(destDir)
	if err != nil {
		return exit.Bad("choose another destination", "cannot resolve %s: %v", destDir, err)
	}
	// Every entry is written through dst (openat): nothing an entry or a
	// concurrent change makes a link can lead a write out of destDir.
	dst, err := os.OpenRoot(root)
	if err != nil {
		return exit.Bad("choose another destination", "cannot open %s: %v", destDir, fsutil.Reason(err))
	}
	defer dst.Close()
	defer func() {
		if err != nil {
			clearDir(dst)
		}
	}()
	return walkBundle(tgzPath, f, st.Size(), lim, func(e bundleEntry) (bool, error) {
		target := filepath.Join(root, filepath.FromSlash(e.rel))
		if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return false, refuseBundle(tgzPath, e.name, "path escapes the destination")
		}
		if e.dir {
			if err := mkdirs(dst, e.rel); err != nil {
				return false, refuseBundle(tgzPath, e.name, "%v", err)
			}
			return false, nil
		}
		if dir := path.Dir(e.rel); dir != "." {
			if err := mkdirs(dst, dir); err != nil {
				return false, refuseBundle(tgzPath, e.name, "%v", err)
			}
		}
		out, err := dst.OpenFile(filepath.FromSlash(e.rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return false, refuseBundle(tgzPath, e.name, "cannot be created: %v", err)
		}
		_, cerr := io.CopyN(out, e.body, e.size)
		if err := out.Close(); cerr == nil {
			cerr = err
		}
		return false, e.copyErr(cerr)
	})
}

// ReadBundleManifest returns the exact bytes of the manifest of the pack
// in the audit bundle at tgzPath, extracting nothing: it streams the
// archive, holds every entry up to the manifest to ExtractBundle's rules
// (the same walk), and stops at the first regular entry named
// pack_manifest.json at the archive's root or one directory down (where
// BundlePackDir finds a pack; a bundle that holds several packs is refused
// only by a full Open). lim bounds that read as it bounds ExtractBundle,
// over the entries up to and including the manifest (each within
// MaxEntryBytes, all within MaxTotalBytes and MaxEntries; the decompressed
// stream capped likewise), so a huge or bomb entry before the manifest
// costs at most lim and one after it costs nothing. Errors
// are bad input (exit 3), as Open's. For a cheap look at a bundle (a
// read-only plan); what it returns is not verified.
func ReadBundleManifest(tgzPath string, lim BundleLimits) ([]byte, error) {
	f, st, err := openBundle(tgzPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var man []byte
	err = walkBundle(tgzPath, f, st.Size(), lim, func(e bundleEntry) (bool, error) {
		if e.dir || !isManifestName(e.rel) {
			return false, nil
		}
		buf := make([]byte, e.size)
		_, err := io.ReadFull(e.body, buf)
		if err := e.copyErr(err); err != nil {
			return false, err
		}
		man = buf
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if man == nil {
		return nil, exit.Bad("give an audit bundle made by 'assay audit bundle'", "the bundle holds no pack (no %s at its root)", FileManifest)
	}
	return man, nil
}

// isManifestName: pack_manifest.json at the root or one directory down.
func isManifestName(rel string) bool {
	dir, base := path.Split(rel)
	return base == FileManifest && !strings.Contains(strings.TrimSuffix(dir, "/"), "/")
}

func openBundle(tgzPath string) (*os.File, os.FileInfo, error) {
	f, st, err := fsutil.OpenRegular(tgzPath) // a FIFO is refused, not waited on
	if errors.Is(err, fsutil.ErrNotRegular) {
		return nil, nil, exit.Bad("give an audit bundle .tar.gz file", "not a regular file: %s", tgzPath)
	}
	if err != nil {
		return nil, nil, exit.Bad("check the path", "cannot open bundle %s: %v", tgzPath, err)
	}
	return f, st, nil
}

// bundleEntry is one accepted entry of a bundle: a directory, or a
// regular file whose size bytes are read from body.
type bundleEntry struct {
	bundle, name, rel string
	dir               bool
	size              int64
	body              io.Reader
}

// copyErr turns an error reading the entry's body into the bundle's error.
func (e bundleEntry) copyErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errCapped):
		return refuseBundle(e.bundle, e.name, "decompresses past the limit")
	}
	return exit.Bad("give an audit bundle made by 'assay audit bundle'", "bundle %s: entry %q is truncated: %v", e.bundle, e.name, err)
}

// walkBundle is the one walk over a bundle's entries (DECISIONS 16): the
// gzip stream f (of size bytes on disk) is read as a tar, every entry is
// held to the rules (only regular files and directories; no absolute
// paths, no ".." components, no links, devices or FIFOs; no entry twice;
// sizes within lim; the decompressed stream capped) and handed to visit
// in order, until visit says stop or the archive ends. Any violation is a
// bad-input error naming the entry.
func walkBundle(tgzPath string, f io.Reader, size int64, lim BundleLimits, visit func(bundleEntry) (stop bool, err error)) error {
	gz, err := gzip.NewReader(f)
	if err != nil {
		return exit.Bad("give an audit bundle made by 'assay audit bundle'", "%s is not a gzip file: %v", tgzPath, err)
	}
	defer gz.Close()
	// Cap the decompressed stream too (entries plus generous room for tar
	// headers and padding), so no header trick makes us inflate without end.
	// The decompressed stream is also bounded by the input's own size.
	stream := &capped{r: gz, left: lim.MaxTotalBytes + int64(lim.MaxEntries+4)*1024 + 1<<20}
	if byInput := size*maxDeflateRatio + 1<<20; byInput > 0 && byInput < stream.left {
		stream.left = byInput
	}
	tr := tar.NewReader(stream)
	var total int64
	seen := map[string]bool{}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return exit.Bad("give an audit bundle made by 'assay audit bundle'", "bundle %s is empty", tgzPath)
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, errCapped) {
				return refuseBundle(tgzPath, "", "decompresses to more than %d bytes", lim.MaxTotalBytes)
			}
			return exit.Bad("give an audit bundle made by 'assay audit bundle'", "bundle %s is not a valid tar.gz: %v", tgzPath, err)
		}
		if n >= lim.MaxEntries {
			return refuseBundle(tgzPath, "", "has more than %d entries", lim.MaxEntries)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // pax global metadata (git archive writes one); no file
		}
		rel, err := safeName(hdr.Name)
		if err != nil {
			return refuseBundle(tgzPath, hdr.Name, "%v", err)
		}
		e := bundleEntry{bundle: tgzPath, name: hdr.Name, rel: rel}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if rel == "." {
				continue
			}
			e.dir = true
		case tar.TypeReg, tar.TypeRegA:
		case tar.TypeSymlink:
			return refuseBundle(tgzPath, hdr.Name, "is a symbolic link (to %q)", hdr.Linkname)
		case tar.TypeLink:
			return refuseBundle(tgzPath, hdr.Name, "is a hard link (to %q)", hdr.Linkname)
		case tar.TypeChar, tar.TypeBlock:
			return refuseBundle(tgzPath, hdr.Name, "is a device file")
		case tar.TypeFifo:
			return refuseBundle(tgzPath, hdr.Name, "is a FIFO")
		default:
			return refuseBundle(tgzPath, hdr.Name, "has unsupported tar entry type %q", string(hdr.Typeflag))
		}
		if !e.dir {
			if rel == "." {
				return refuseBundle(tgzPath, hdr.Name, "names no file")
			}
			if seen[rel] {
				return refuseBundle(tgzPath, hdr.Name, "appears twice")
			}
			seen[rel] = true
			if hdr.Size < 0 || hdr.Size > lim.MaxEntryBytes {
				return refuseBundle(tgzPath, hdr.Name, "declares %d bytes, more than the %d-byte limit per file", hdr.Size, lim.MaxEntryBytes)
			}
			if total += hdr.Size; total > lim.MaxTotalBytes {
				return refuseBundle(tgzPath, hdr.Name, "brings the bundle past the %d-byte limit", lim.MaxTotalBytes)
			}
			e.size, e.body = hdr.Size, tr
		}
		stop, err := visit(e)
		if err != nil || stop {
			return err
		}
	}
}

func refuseBundle(bundle, entry, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if entry != "" {
		what = fmt.Sprintf("entry %q %s", entry, what)
	}
	return exit.Bad("only extract bundles made by 'assay audit bundle'; this one was refused and nothing was kept", "unsafe bundle %s: %s", bundle, what)
}

// safeName checks an entry name and returns it cleaned and relative
// ("." for the root itself).
func safeName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("has an empty name")
	case strings.ContainsRune(name, 0):
		return "", errors.New("has a NUL byte in its name")
	case strings.Contains(name, `\`):
		return "", errors.New("has a backslash in its name")
	case strings.HasPrefix(name, "/"):
		return "", errors.New("is an absolute path")
	case len(name) >= 2 && name[1] == ':':
		return "", errors.New("names a drive (absolute path)")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errors.New("has a '..' component (path traversal)")
		}
	}
	return path.Clean(name), nil
}

// mkdirs creates rel (slash-separated) under root one component at a time,
// refusing to go through anything that is not a plain directory.
func mkdirs(root *os.Root, rel string) error {
	cur := ""
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		st, err := root.Lstat(cur)
		switch {
		case err == nil && st.IsDir():
			continue
		case err == nil:
			return fmt.Errorf("needs directory %q, which is a file", part)
		case errors.Is(err, os.ErrNotExist):
			if err := root.Mkdir(cur, 0o755); err != nil {
				return fmt.Errorf("cannot create directory: %v", err)
			}
		default:
			return err
		}
	}
	return nil
}

func clearDir(root *os.Root) {
	d, err := root.Open(".")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		root.RemoveAll(n)
	}
}

var errCapped = errors.New("decompressed size limit reached")

// capped reads at most left bytes, then fails with errCapped.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errCapped
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// IsBundle reports whether path is a regular file that starts like a gzip
// stream, so callers can accept a bundle wherever a pack directory goes.
func IsBundle(p string) bool {
	f, _, err := fsutil.OpenRegular(p) // never blocks on a FIFO
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return magic[0] == 0x1f && magic[1] == 0x8b
}

// BundlePackDir returns the pack directory inside an extracted bundle: dir
// itself when it holds pack_manifest.json, else its only subdirectory that
// does. Only regular files count, looked at through dir's root.
func BundlePackDir(dir string) (string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", exit.Bad("", "cannot read %s: %v", dir, fsutil.Reason(err))
	}
	defer root.Close()
	regular := func(name string) bool {
		st, err := root.Lstat(name)
		return err == nil && st.Mode().IsRegular()
	}
	if regular(FileManifest) {
		return dir, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", exit.Bad("", "cannot read %s: %v", dir, fsutil.Reason(err))
	}
	var found []string
	for _, e := range ents {
		if e.IsDir() && regular(filepath.Join(e.Name(), FileManifest)) {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	if len(found) != 1 {
		return "", exit.Bad("give an audit bundle made by 'assay audit bundle'", "the bundle holds no pack (no %s at its root)", FileManifest)
	}
	return found[0], nil
}

// extractTemp extracts a bundle into a new private temporary directory and
// returns the pack directory inside it and a cleanup function (nil on
// error: nothing is left behind).
func extractTemp(tgzPath, base string) (packDir string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp(base, "assay-bundle-*")
	if err != nil {
		return "", nil, fmt.Errorf("create temp dir: %w", err)
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if err := ExtractBundle(tgzPath, tmp, DefaultBundleLimits); err != nil {
		cleanup()
		return "", nil, err
	}
	packDir, err = BundlePackDir(tmp)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return packDir, cleanup, nil
}
