package otlpout

import (
	"fmt"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// Source is a set of receipts to export and where they live. Close it
// when done (a pack source holds the pack open).
type Source struct {
	Context Context
	Each    func(func(*canon.Object) error) error
	close   func() error
}

// Close releases the pack a source reads (nothing for a trace).
func (s Source) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// FromPack verifies the pack at dir and returns its receipts. A pack whose
// integrity fails is refused (exit 2): a dashboard must not link to
// evidence that does not verify. An honest failure (exit 1) is exported:
// it is authentic evidence. The receipts are read from the pack that was
// verified (the same open pack), pinned to its manifest: a receipt file
// swapped after the verification is refused as tampered, not exported.
func FromPack(dir string) (Source, error) { return fromPack(dir, dir) }

// fromPack is FromPack naming the pack as shown in its messages.
func fromPack(dir, shown string) (Source, error) {
	p, res, err := verify.OpenVerified(dir, verify.Options{})
	if err != nil {
		return Source{}, err
	}
	if p == nil || res.ExitCode == exit.Tampered {
		if p != nil {
			p.Close()
		}
		return Source{}, exit.New(exit.Tampered, "run 'assay verify-pack "+shown+"' to see what failed", "the pack does not verify (%s); nothing exported", res.Verdict)
	}
	return fromOpened(p), nil
}

// FromPackAs is FromPack naming the pack as shown in its messages (e.g.
// the storage URL it was fetched from: remote.ExportSource).
func FromPackAs(dir, shown string) (Source, error) { return fromPack(dir, shown) }

// OnClose returns s that also runs f once s is closed.
func (s Source) OnClose(f func()) Source {
	inner := s.close
	s.close = func() error {
		var err error
		if inner != nil {
			err = inner()
		}
		f()
		return err
	}
	return s
}

// ReadPack returns a pack's receipts without verifying it (for a pack this
// process just built); FromPack verifies first.
func ReadPack(dir string) (Source, error) {
	p, err := pack.OpenDir(dir)
	if err != nil {
		return Source{}, err
	}
	return fromOpened(p), nil
}

// fromOpened is the source of an open pack: its context from the typed
// manifest, its receipts streamed through the pack's root and checked
// against the manifest (pack.PinnedReceipts). The source owns p.
func fromOpened(p *pack.Pack) Source {
	each := func(fn func(*canon.Object) error) error {
		it, err := p.PinnedReceipts()
		if err != nil {
			return err
		}
		defer it.Close()
		for it.Next() {
			if it.Blank() {
				continue
			}
			o, ok := it.Object()
			if !ok {
				return exit.New(exit.Tampered, "", "%s line %d is not a JSON object", pack.FileReceipts, it.LineNo())
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		return it.Err()
	}
	m := p.Manifest
	return Source{Context: Context{TraceID: m.Attestation.RunID, PackID: m.PackID, PackRootSHA256: m.PackRootSHA256}, Each: each, close: p.Close}
}

// FromTrace returns the receipts of a stored trace (no pack yet, so no
// pack id).
func FromTrace(st *store.Store, traceID string) (Source, error) {
	path, ok, err := st.Find(traceID)
	if err != nil {
		return Source{}, err
	}
	if !ok {
		return Source{}, exit.Bad("list traces with 'assay packs' or give a pack directory", "no trace %s in %s", traceID, st.Home)
	}
	each := func(fn func(*canon.Object) error) error {
		probs, err := store.EachFile(path, fn)
		if err == nil && len(probs) > 0 {
			return fmt.Errorf("%s line %d is not a receipt: %s", path, probs[0].Line, probs[0].Err)
		}
		return err
	}
	return Source{Context: Context{TraceID: traceID}, Each: each}, nil
}
