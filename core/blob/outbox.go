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
