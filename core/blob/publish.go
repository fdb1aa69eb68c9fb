package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
)

// ManifestName is the file whose presence makes a prefix a pack. It is
// written last.
const ManifestName = pack.FileManifest

// Published says what Publish wrote.
type Published struct {
	URL     string `json:"url"`
	Objects int    `json:"objects"`
	Bytes   int64  `json:"bytes"`
}

// Publish uploads the pack directory dir (built and published locally
// first, by core/pack) to the empty location dst. Object storage has no
// rename, so the manifest is the commit point: every other file is
// uploaded, their sizes are checked by listing them back, and only then
// is pack_manifest.json written, conditionally (it must not exist). A
// reader that sees the manifest sees the whole pack; an upload killed
// before that leaves a prefix without a manifest, which no reader takes
// for a pack. The local directory is never touched.
func Publish(ctx context.Context, dir string, dst *Location) (*Published, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, exit.Bad("give the pack directory", "cannot open pack directory %s: %v", dir, unwrapPath(err))
	}
	defer root.Close()
	files, err := packFiles(root)
	if err != nil {
		return nil, exit.Bad("a pack holds regular files only; rebuild it", "%s: %v", dir, err)
	}
	if _, ok := files[ManifestName]; !ok {
		return nil, exit.Bad("build the pack first with 'assay proof-pack'", "no %s in %s: not a pack", ManifestName, dir)
	}
	if err := dst.mustBeEmpty(ctx); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if n != ManifestName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := &Published{URL: dst.URL}
	for _, n := range names {
		if err := dst.upload(ctx, root, n, false); err != nil {
			return nil, err
		}
		out.Objects++
		out.Bytes += files[n]
	}
	// Every object is in place at its size before the commit point.
	got, err := dst.sizes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if s, ok := got[n]; !ok || s != files[n] {
			return nil, exit.Bad("retry the upload to a new prefix", "upload to %s incomplete: %s has %d bytes in storage, %d locally", dst.URL, n, s, files[n])
		}
	}
	if err := dst.upload(ctx, root, ManifestName, true); err != nil {
		return nil, err
	}
	out.Objects++
	out.Bytes += files[ManifestName]
	return out, nil
}

// packFiles lists the regular files under root with their sizes, by
// slash-separated relative name; a link or special file is an error.
func packFiles(root *os.Root) (map[string]int64, error) {
	files := map[string]int64{}
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[p] = info.Size()
		return nil
	})
	return files, err
}

// mustBeEmpty refuses a location that already holds objects: a pack
// (manifest present) or the leftovers of an interrupted upload.
func (l *Location) mustBeEmpty(ctx context.Context) error {
	objs, _, err := l.Bucket.ListPage(ctx, gcblob.FirstPageToken, 1, nil)
	if err != nil {
		return l.err(err, "list "+l.URL)
	}
	if len(objs) == 0 {
		return nil
	}
	ok, err := l.Bucket.Exists(ctx, ManifestName)
	if err != nil {
		return l.err(err, "read "+l.Join(ManifestName))
	}
	if ok {
		return exit.Bad("choose a new prefix; packs are never overwritten", "a pack already exists at %s", l.URL)
	}
	return exit.Bad("remove those objects or choose a new prefix", "%s already holds objects but no %s (an interrupted upload?)", l.URL, ManifestName)
}

// upload streams one file to its key. The manifest is written only if
// it does not exist yet, so two publishers cannot both commit.
func (l *Location) upload(ctx context.Context, root *os.Root, name string, ifNotExist bool) error {
	f, err := root.Open(name)
	if err != nil {
		return exit.Bad("check the pack directory", "cannot read %s: %v", name, unwrapPath(err))
	}
	defer f.Close()
	ct := "application/octet-stream"
	switch {
	case len(name) > 5 && name[len(name)-5:] == ".json":
		ct = "application/json"
	case len(name) > 6 && name[len(name)-6:] == ".jsonl":
		ct = "application/jsonl"
	case len(name) > 3 && name[len(name)-3:] == ".md":
		ct = "text/markdown"
	}
	err = l.Bucket.Upload(ctx, name, f, &gcblob.WriterOptions{ContentType: ct, IfNotExist: ifNotExist})
	if err != nil && ifNotExist && gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return exit.Bad("choose a new prefix", "another pack was published at %s meanwhile", l.URL)
	}
	return l.err(err, "upload "+l.Join(name))
}

// sizes lists every object under the location with its size.
func (l *Location) sizes(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	it := l.Bucket.List(nil)
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, l.err(err, "list "+l.URL)
		}
		out[o.Key] = o.Size
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
