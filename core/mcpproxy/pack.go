package mcpproxy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// sessionLine is the form of a session file line: canonical, with U+2028
// and friends escaped so that every line reader splits it the same way.
var sessionLine = canon.Options{EscapeLineSeparators: true}

// Artifacts are what a finished session leaves in the audit directory.
type Artifacts struct {
	SessionFile string `json:"session_file"`
	// Pack is the built proof pack; nil when none was built.
	Pack *pack.Result `json:"pack,omitempty"`
	// Receipts counts the receipts of the session's trace, the server's
	// own included.
	Receipts int `json:"receipts"`
	// Unreadable counts trace lines that are not receipts (left out).
	Unreadable int `json:"unreadable_lines"`
}

// stamp names a session's files: UTC time to the second plus the session
// id's hex, so two sessions in the same second never collide (the
// reference's files could overwrite each other).
func stamp(s *Session, now time.Time) string {
	id := s.SessionID
	if len(id) > 4 && id[:4] == "mcp_" {
		id = id[4:]
	}
	if len(id) > 8 {
		id = id[:8]
	}
	return now.UTC().Format("20060102T150405Z") + "_" + id
}

// Finish writes the session file (<auditDir>/receipts/session_<stamp>.jsonl:
// the session_metadata receipt first, then the trace's other receipts, each
// a canonical line) and, when signer is non-nil, builds the session's pack
// from the store trace into <auditDir>/packs/proof_pack_<stamp>/, signed by
// signer. The pack holds every receipt of the trace, so an instrumented
// server's own receipts are in it; its session_metadata receipt says
// whether the session was complete. mode is the attestation mode.
func Finish(st *store.Store, s *Session, auditDir string, signer *keys.Signer, mode string) (*Artifacts, error) {
	recs, probs, err := st.Read(s.TraceID)
	if err != nil {
		return nil, fmt.Errorf("read the session's trace: %w", err)
	}
	a := &Artifacts{Receipts: len(recs), Unreadable: len(probs)}
	now := time.Now()
	name := stamp(s, now)
	if err := os.MkdirAll(filepath.Join(auditDir, "receipts"), 0o755); err != nil {
		return a, fmt.Errorf("create the audit directory: %w", err)
	}
	var buf bytes.Buffer
	var meta, rest [][]byte
	for _, r := range recs {
		line, err := sessionLine.Marshal(r)
		if err != nil {
			return a, fmt.Errorf("encode a receipt: %w", err)
		}
		if t, _ := r.Get("type"); t == "session_metadata" {
			meta = append(meta, line)
		} else {
			rest = append(rest, line)
		}
	}
	for _, l := range append(meta, rest...) {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	a.SessionFile = filepath.Join(auditDir, "receipts", "session_"+name+".jsonl")
	if err := fsutil.WriteFileAtomic(a.SessionFile, buf.Bytes(), 0o644); err != nil {
		return a, fmt.Errorf("write the session file: %w", err)
	}
	if signer == nil {
		return a, nil
	}
	if err := os.MkdirAll(filepath.Join(auditDir, "packs"), 0o755); err != nil {
		return a, fmt.Errorf("create the packs directory: %w", err)
	}
	// The pack's claims say whether the session closed complete: an
	// incomplete session's pack is an honest failure, never a plain PASS.
	card, _ := claims.Builtin(claims.MCPSessionCard)
	res, err := pack.Build(pack.Options{
		RunID:    s.TraceID,
		Receipts: recs,
		Signer:   signer,
		OutDir:   filepath.Join(auditDir, "packs", "proof_pack_"+name),
		Mode:     mode,
		Claims:   claims.Flatten([]*claims.Card{card}),
	})
	if err != nil {
		return a, fmt.Errorf("build the session's pack: %w", err)
	}
	a.Pack = res
	return a, nil
}

// SessionMetadata returns the session_metadata receipt of a pack's or
// trace's receipts that says how the session ended: the last closing one,
// else (a session that never closed) the last opening one; nil if none.
func SessionMetadata(recs []*receipt.Receipt) *receipt.Receipt {
	var open, closed *receipt.Receipt
	for _, r := range recs {
		if t, _ := r.Get("type"); t == "session_metadata" {
			if st, _ := r.Get("session_state"); st == SessionOpen {
				open = r
			} else {
				closed = r
			}
		}
	}
	if closed != nil {
		return closed
	}
	return open
}
