package blob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/assay-dev/assay/core/exit"
)

// Read limits for what a location may make us download: a hostile bucket
// must not fill the disk.
const (
	maxManifestBytes = 64 << 20 // as the verifier's
	extraBytes       = 64 << 20 // beyond the sizes the manifest lists
	maxObjects       = 10000
)

// NotPackError is a location without a manifest.
func notPack(l *Location) error {
	return exit.Bad("a pack's prefix holds pack_manifest.json, written last; an upload that is still running or was interrupted has none, so check the URL or publish the pack again",
		"no %s at %s: not a pack", ManifestName, l.URL)
}

// HasManifest reports whether the location holds a pack manifest.
func (l *Location) HasManifest(ctx context.Context) (bool, error) {
	ok, err := l.Bucket.Exists(ctx, ManifestName)
	if err != nil {
		return false, l.err(err, "read "+l.Join(ManifestName))
	}
	return ok, nil
}

// Fetch downloads the pack at the location into the existing empty local
// directory dir, each object streamed to its file (never held in memory),
// so the one verifier checks it exactly as it checks a local pack. A
// location without a manifest is not a pack (exit 3). The download is
// bounded: the sizes the manifest lists plus 64 MiB, and 10000 objects;
// object keys that are not plain relative paths are refused.
func (l *Location) Fetch(ctx context.Context, dir string) error {
	ok, err := l.HasManifest(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return notPack(l)
	}
	budget := int64(extraBytes) + l.declaredBytes(ctx)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return exit.Bad("check the temporary directory", "cannot open %s: %v", dir, unwrapPath(err))
	}
	defer root.Close()
	it := l.Bucket.List(nil)
	n := 0
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return l.err(err, "list "+l.URL)
		}
		if o.IsDir {
			continue
		}
		if n++; n > maxObjects {
			return exit.Bad("point at one pack's prefix", "%s holds more than %d objects: not one pack", l.URL, maxObjects)
		}
		if !safeKey(o.Key) {
			return exit.Bad("a pack holds plain relative file names; check what wrote this prefix", "refusing object %q under %s: not a plain relative path", o.Key, l.URL)
		}
		if o.Size > budget {
			return exit.Bad("point at one pack's prefix", "%s holds more bytes than its manifest lists (over the %d MiB allowance)", l.URL, extraBytes>>20)
		}
		got, err := l.download(ctx, root, o.Key, budget)
		if err != nil {
			return err
		}
		budget -= got
	}
}

// declaredBytes sums the sizes the typed manifest lists, plus room for
// the manifest itself (that room alone when it cannot be read: the
// verifier then says what is wrong with it).
func (l *Location) declaredBytes(ctx context.Context) int64 {
	var sum int64 = maxManifestBytes
	m, err := l.readManifest(ctx, ManifestName)
	if err != nil {
		return sum
	}
	for _, f := range m.Files {
		if f.Bytes > 0 && f.Bytes < 1<<50 {
			sum += f.Bytes
		}
	}
	return sum
}

// safeKey accepts slash-separated relative names without empty, . or ..
// segments (fs.ValidPath), and no backslashes.
func safeKey(k string) bool {
	return fs.ValidPath(k) && k != "." && !strings.Contains(k, `\`)
}

// download streams one object into root, at most limit bytes.
func (l *Location) download(ctx context.Context, root *os.Root, key string, limit int64) (int64, error) {
	if d := path.Dir(key); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return 0, exit.Bad("a pack holds plain relative file names", "cannot place %s: %v", l.Join(key), unwrapPath(err))
		}
	}
	f, err := root.OpenFile(key, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, exit.Bad("a pack holds plain relative file names", "cannot place %s: %v", l.Join(key), unwrapPath(err))
	}
	r, err := l.Bucket.NewReader(ctx, key, nil)
	if err != nil {
		f.Close()
		return 0, l.err(err, "read "+l.Join(key))
	}
	defer r.Close()
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, l.err(err, "read "+l.Join(key))
	}
	if n > limit {
		return n, exit.Bad("point at one pack's prefix", "%s holds more bytes than its manifest lists (over the %d MiB allowance)", l.URL, extraBytes>>20)
	}
	return n, nil
}

// FetchObject downloads the single object key (an audit bundle) to the
// local file dst, at most max bytes.
func (l *Location) FetchObject(ctx context.Context, key, dst string, max int64) error {
	r, err := l.Bucket.NewReader(ctx, key, nil)
	if err != nil {
		return l.err(err, "read "+l.Join(key))
	}
	defer r.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return l.err(err, "read "+l.Join(key))
	}
	if n > max {
		return exit.Bad("check the URL", "%s is larger than %d MiB", l.Join(key), max>>20)
	}
	return nil
}

// PutObject uploads the local file src as the single object key, only if
// it does not exist yet (an audit bundle: one object is atomic by itself).
func (l *Location) PutObject(ctx context.Context, src, key string) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if ok, err := l.Bucket.Exists(ctx, key); err != nil {
		return 0, l.err(err, "read "+l.Join(key))
	} else if ok {
		return 0, exit.Bad("choose a new name; bundles are never overwritten", "%s already exists", l.Join(key))
	}
	err = l.Bucket.Upload(ctx, key, f, &gcblob.WriterOptions{ContentType: "application/gzip", IfNotExist: true})
	if err != nil && gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return 0, exit.Bad("choose a new name; bundles are never overwritten", "%s was written by someone else meanwhile", l.Join(key))
	}
	if err != nil {
		return 0, l.err(err, "upload "+l.Join(key))
	}
	return st.Size(), nil
}

// FetchTemp downloads the pack at the storage URL raw (a prefix) into a
// new private temporary directory, as Fetch does, and returns it with a
// function that removes it. The caller verifies it before reading it.
func FetchTemp(ctx context.Context, raw string, opt Options) (dir, shown string, cleanup func(), err error) {
	loc, err := Open(ctx, raw, opt)
	if err != nil {
		return "", "", nil, err
	}
	defer loc.Close()
	tmp, err := os.MkdirTemp("", "assay-remote-")
	if err != nil {
		return "", "", nil, exit.Bad("check $TMPDIR", "cannot create a temporary directory: %v", err)
	}
	cleanup = func() { os.RemoveAll(tmp) }
	dir = filepath.Join(tmp, "pack")
	if err := os.Mkdir(dir, 0o700); err != nil {
		cleanup()
		return "", "", nil, err
	}
	if err := loc.Fetch(ctx, dir); err != nil {
		cleanup()
		return "", "", nil, err
	}
	return dir, loc.URL, cleanup, nil
}
