package remote

import (
	"context"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/otlpout"
)

// ExportSource is otlpout.FromPack for a pack published to object storage
// (a prefix URL): its objects are streamed into a private temporary
// directory, verified there by the one verifier, and read from it; Close
// removes the copy. A prefix without a manifest (an unfinished upload) is
// not a pack. It lives here, not in core/otlpout, so that assay-mcp (which
// links otlpout for live export) does not link the storage SDKs.
func ExportSource(ctx context.Context, raw string, bo blob.Options) (otlpout.Source, error) {
	dir, shown, cleanup, err := blob.FetchTemp(ctx, raw, bo)
	if err != nil {
		return otlpout.Source{}, err
	}
	src, err := otlpout.FromPackAs(dir, shown)
	if err != nil {
		cleanup()
		return otlpout.Source{}, err
	}
	return src.OnClose(cleanup), nil
}
