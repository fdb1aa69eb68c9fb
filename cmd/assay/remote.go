package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/assay-dev/assay/core/blob"
)

// remoteOut is a -o storage URL: the pack is built by the usual builder
// into a local outbox directory, then published with its manifest last;
// a failed upload keeps the local copy and says where it is.
type remoteOut struct {
	raw   string         // the URL as given (no credentials: blob.Parse refuses them)
	loc   *blob.Location // the destination, checked empty
	box   string         // the outbox directory
	local string         // the local pack (or bundle) path inside box
}

// openRemoteOut checks the destination (reachable, empty) before
// anything is built, and makes the outbox directory.
func openRemoteOut(ctx context.Context, home, raw, name string) (*remoteOut, error) {
	loc, err := blob.Prepare(ctx, raw, blob.Options{})
	if err != nil {
		return nil, err
	}
	box, err := blob.Outbox(home)
	if err != nil {
		loc.Close()
		return nil, err
	}
	return &remoteOut{raw: raw, loc: loc, box: box, local: filepath.Join(box, name)}, nil
}

// publish uploads the built pack; on success the outbox copy is removed.
func (r *remoteOut) publish(ctx context.Context) (*blob.Published, error) {
	pub, err := blob.Publish(ctx, r.local, r.loc)
	if err != nil {
		return nil, blob.Kept(err, "upload to "+r.loc.URL+" failed", r.local,
			"publish it with 'assay packs push "+r.local+" "+r.raw+"'")
	}
	os.RemoveAll(r.box)
	return pub, nil
}

// discard removes the outbox when nothing was built into it.
func (r *remoteOut) discard() {
	if _, err := os.Stat(r.local); err != nil {
		os.RemoveAll(r.box)
	}
}

func (r *remoteOut) close() { r.loc.Close() }
