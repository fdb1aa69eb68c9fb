package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/verify"
)

// maxBundleBytes bounds an audit bundle fetched from storage.
const maxBundleBytes = 4 << 30

// Check verifies the pack (a prefix) or audit bundle (an object ending
// in .tar.gz or .tgz) at a storage URL with the same verifier, gates and
// exit codes as a local one: its objects are streamed into a private
// temporary directory (bounded by the sizes the manifest lists), checked
// there, and removed. A prefix without pack_manifest.json is not a pack
// (exit 3), whatever else it holds.
func Check(ctx context.Context, raw string, o verify.PathOptions, bo blob.Options) (*verify.Result, error) {
	tmp, err := os.MkdirTemp("", "assay-remote-")
	if err != nil {
		return nil, exit.Bad("check $TMPDIR", "cannot create a temporary directory: %v", err)
	}
	defer os.RemoveAll(tmp)
	var local, shown string
	if lower := strings.ToLower(strings.SplitN(raw, "?", 2)[0]); strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") {
		p, key, err := blob.ParseObject(raw)
		if err != nil {
			return nil, err
		}
		loc, err := blob.OpenParsed(ctx, p, bo)
		if err != nil {
			return nil, err
		}
		defer loc.Close()
		local = filepath.Join(tmp, "bundle.tar.gz")
		if err := loc.FetchObject(ctx, key, local, maxBundleBytes); err != nil {
			return nil, err
		}
		shown = loc.Join(key)
	} else {
		dir, url, cleanup, err := blob.FetchTemp(ctx, raw, bo)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		local, shown = dir, url
	}
	r, err := verify.VerifyPath(local, o)
	if err != nil {
		return nil, err
	}
	r.Path = shown
	return r, nil
}
