package otlpout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/check"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/store"
)

// Source is a set of receipts to export and where they live.
type Source struct {
	Context Context
	Each    func(func(*canon.Object) error) error
}

// FromPack verifies the pack at dir and returns its receipts. A pack whose
// integrity fails is refused (exit 2): a dashboard must not link to
// evidence that does not verify. An honest failure (exit 1) is exported:
// it is authentic evidence.
func FromPack(dir string) (Source, error) { return fromPack(dir, dir) }

func fromPack(dir, shown string) (Source, error) {
	res, err := check.Pack(dir, check.Options{})
	if err != nil {
		return Source{}, err
	}
	if res.ExitCode == exit.Tampered {
		return Source{}, exit.New(exit.Tampered, "run 'assay verify-pack "+shown+"' to see what failed", "the pack does not verify (%s); nothing exported", res.Verdict)
	}
	return ReadPack(dir)
}

// FromStorage is FromPack for a pack published to object storage (a
// prefix URL, see core/blob): its objects are streamed into a private
// temporary directory, verified there by the one verifier, and read from
// it; done removes the copy and must be called once the export is over.
// A prefix without a manifest (an unfinished upload) is not a pack.
func FromStorage(ctx context.Context, raw string, bo blob.Options) (src Source, done func(), err error) {
	dir, shown, cleanup, err := blob.FetchTemp(ctx, raw, bo)
	if err != nil {
		return Source{}, nil, err
	}
	src, err = fromPack(dir, shown)
	if err != nil {
		cleanup()
		return Source{}, nil, err
	}
	return src, cleanup, nil
}

// ReadPack returns a pack's receipts without verifying it (for a pack this
// process just built); FromPack verifies first.
func ReadPack(dir string) (Source, error) {
	f, err := fsutil.OpenConfined(dir, "pack_manifest.json")
	if err != nil {
		return Source{}, exit.Wrap(exit.BadInput, err, "give a pack directory")
	}
	var m struct {
		PackID      string `json:"pack_id"`
		Root        string `json:"pack_root_sha256"`
		Attestation struct {
			RunID string `json:"run_id"`
		} `json:"attestation"`
	}
	err = json.NewDecoder(f).Decode(&m)
	f.Close()
	if err != nil {
		return Source{}, exit.New(exit.Tampered, "", "pack_manifest.json is not JSON: %v", err)
	}
	each := func(fn func(*canon.Object) error) error {
		f, err := fsutil.OpenConfined(dir, "receipt_pack.jsonl")
		if err != nil {
			return exit.Wrap(exit.BadInput, err, "")
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		n := 0
		for sc.Scan() {
			n++
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			v, err := canon.Decode(line)
			if err != nil {
				return exit.New(exit.Tampered, "", "receipt_pack.jsonl line %d: %v", n, err)
			}
			o, ok := v.(*canon.Object)
			if !ok {
				return exit.New(exit.Tampered, "", "receipt_pack.jsonl line %d is not an object", n)
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		return sc.Err()
	}
	return Source{Context: Context{TraceID: m.Attestation.RunID, PackID: m.PackID, PackRootSHA256: m.Root}, Each: each}, nil
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
