package blob

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

// A pack bound for storage is built on local disk first, by the one pack
// builder (core/pack: staging directory, atomic rename), then published.
// Building locally rather than streaming to the bucket keeps one builder,
// lets the upload happen only once the pack is complete and signed, and
// leaves a complete local copy when the upload fails: the evidence is
// never lost to a network error.

// Outbox makes a new directory under home/outbox to build into and
// returns it; the pack or bundle goes inside it under its own name.
func Outbox(home string) (string, error) {
	base := filepath.Join(home, "outbox")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", exit.Bad("check that "+home+" is writable", "cannot create %s: %v", base, unwrapPath(err))
	}
	dir := filepath.Join(base, time.Now().UTC().Format("20060102T150405")+"_"+receipt.NewID("", 8))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", exit.Bad("check that "+base+" is writable", "cannot create %s: %v", dir, unwrapPath(err))
	}
	return dir, nil
}

// Prepare opens the destination of a pack and refuses it before anything
// is built when it already holds objects.
func Prepare(ctx context.Context, raw string, opt Options) (*Location, error) {
	opt.Create = true
	loc, err := Open(ctx, raw, opt)
	if err != nil {
		return nil, err
	}
	if err := loc.mustBeEmpty(ctx); err != nil {
		loc.Close()
		return nil, err
	}
	return loc, nil
}

// Kept is the error of an upload that failed after the local build: one
// line saying what failed, where the local copy is and how to publish it.
func Kept(err error, what, local, retry string) error {
	return &exit.Error{Code: exit.Code(err), Msg: fmt.Sprintf("%s: %v; the local copy is kept at %s", what, msgOf(err), local), Fix: retry}
}

// msgOf is the error's message without its fix.
func msgOf(err error) string {
	if e, ok := err.(*exit.Error); ok {
		return e.Msg
	}
	return err.Error()
}

// Outgoing is a storage URL a pack is published to: built first by the
// usual builder in a local outbox directory under the home, then uploaded
// with its manifest last (Publish). Building locally keeps one
// builder, uploads only a complete signed pack, and leaves a complete
// local copy when the upload fails.
type Outgoing struct {
	raw   string
	loc   *Location
	box   string
	Local string // where to build
}

// OpenOutgoing checks the destination (reachable, empty) before anything
// is built and makes the outbox directory; name is the local pack's name.
func OpenOutgoing(ctx context.Context, home, raw, name string, bo Options) (*Outgoing, error) {
	if home == "" {
		return nil, exit.Bad("set ASSAY_HOME", "no assay home for the local copy of a pack bound for %s", raw)
	}
	loc, err := Prepare(ctx, raw, bo)
	if err != nil {
		return nil, err
	}
	box, err := Outbox(home)
	if err != nil {
		loc.Close()
		return nil, err
	}
	return &Outgoing{raw: raw, loc: loc, box: box, Local: filepath.Join(box, name)}, nil
}

// Publish uploads the built pack; on success the local copy is removed,
// on failure it is kept and the error says where and how to retry.
func (r *Outgoing) Publish(ctx context.Context) (*Published, error) {
	pub, err := Publish(ctx, r.Local, r.loc)
	if err != nil {
		return nil, Kept(err, "upload to "+r.loc.URL+" failed", r.Local,
			"publish it with 'assay packs push "+r.Local+" "+r.raw+"'")
	}
	os.RemoveAll(r.box)
	return pub, nil
}

// Close releases the destination and removes an outbox nothing was built in.
func (r *Outgoing) Close() {
	if _, err := os.Stat(r.Local); err != nil {
		os.RemoveAll(r.box)
	}
	r.loc.Close()
}
