package pack

import (
	"github.com/assay-dev/assay/core/store"
)

// FromTrace is the one way a stored trace becomes a pack: it finds the file
// of trace traceID in st and builds its pack streamed (BuildTrace), so the
// receipts are never all held in memory. opt.RunID defaults to traceID.
// A trace with no file yet builds an empty pack, or returns ErrNoReceipts
// when opt.RequireReceipts is set. The problems are the trace lines that
// are not receipts (left out of the pack); callers report them loudly.
func FromTrace(st *store.Store, traceID string, opt Options) (*Result, []store.LineProblem, error) {
	path, ok, err := st.Find(traceID)
	if err != nil {
		return nil, nil, err
	}
	if opt.RunID == "" {
		opt.RunID = traceID
	}
	if !ok {
		if opt.RequireReceipts {
			return nil, nil, ErrNoReceipts
		}
		res, err := Build(opt)
		return res, nil, err
	}
	return BuildTrace(opt, path)
}
