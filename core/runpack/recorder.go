package runpack

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
)

// lateSink sends receipts to the run's recorder once it is bound (the
// gateway starts before the signer, and so the recorder, exists; no
// receipt can arrive before the child starts). Unbound, it appends to
// the store.
type lateSink struct {
	st     *store.Store
	rec    atomic.Pointer[recorder.Recorder]
	remote *client.Client // a long-lived recorder, when the run uses one
}

func (l *lateSink) Emit(traceID, typ string, data *canon.Object, opt store.EmitOptions) (*receipt.Receipt, error) {
	if l.remote != nil {
		return l.remote.Emit(traceID, typ, data, opt)
	}
	if r := l.rec.Load(); r != nil {
		return r.Emit(traceID, typ, data, opt)
	}
	return l.st.Emit(traceID, typ, data, opt)
}

// remotePack has the long-lived recorder close the run and build its pack
// (signed with the recorder's key, in a directory it owns), then copies the
// pack to outDir (a temp directory renamed into place).
func remotePack(c *client.Client, traceID string, req Request, outDir string) (*recorder.PackResult, []store.LineProblem, error) {
	ack, err := c.CloseRun(client.Request{TraceID: traceID, Mode: req.Mode, Cards: req.Cards, RequireReceipts: !req.AllowEmpty})
	if err != nil {
		if ack != nil && strings.Contains(ack.Error, pack.ErrNoReceipts.Error()) {
			return nil, nil, pack.ErrNoReceipts
		}
		return nil, nil, err
	}
	var res struct {
		pack.Result
		Seal     seal.Summary        `json:"seal"`
		Problems []store.LineProblem `json:"problems"`
	}
	if err := json.Unmarshal(ack.Result, &res); err != nil {
		return nil, nil, fmt.Errorf("the recorder's answer is not a pack result: %w", err)
	}
	if err := copyPack(ack.PackDir, outDir); err != nil {
		return nil, nil, exit.Wrap(exit.BadInput, err, "the pack stays in "+ack.PackDir)
	}
	res.Result.Dir = outDir
	return &recorder.PackResult{Result: &res.Result, Seal: res.Seal}, res.Problems, nil
}

// copyPack copies the regular files and directories of src into a new
// directory dst (built beside it, then renamed). Links and special files
// are not followed.
func copyPack(src, dst string) error {
	parent := filepath.Dir(filepath.Clean(dst))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".assay_pack_copy_")
	if err != nil {
		return err
	}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(tmp, rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir():
			return os.Mkdir(to, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
		return nil
	})
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("copy the pack from %s: %w", src, err)
	}
	return nil
}
