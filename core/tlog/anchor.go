package tlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
)

// AnchorFile is where a pack carries its anchor, outside the signed kernel
// (DECISIONS 22): the reference verifier ignores _unsigned/.
const AnchorFile = pack.DirUnsigned + "/anchor.json"

// AnchorFormat names the anchor.json format.
const AnchorFormat = "assay.anchor/v1"

// maxAnchor bounds how much of an anchor.json we read (a tlog-proof with 63
// hashes and a few dozen ML-DSA cosignatures stays well below).
const maxAnchor = 1 << 20

// Anchor is _unsigned/anchor.json. Nothing in it is trusted by itself: the
// verifier recomputes the leaf from the pack and checks the proof against a
// pinned log key when one is given.
type Anchor struct {
	Format     string `json:"format"`
	LeafFormat string `json:"leaf_format"`
	LogOrigin  string `json:"log_origin"`
	// LogVKey is the log's note verifier key (vkey).
	LogVKey string `json:"log_vkey"`
	// LogURL is the tlog-tiles prefix of a team log (empty for a local log).
	LogURL    string `json:"log_url,omitempty"`
	LeafIndex uint64 `json:"leaf_index"`
	// TLogProof is the C2SP tlog-proof text (c2sp.org/tlog-proof@v1):
	// index, inclusion path and the signed, cosigned checkpoint.
	TLogProof  string `json:"tlog_proof"`
	AnchoredAt string `json:"anchored_at"`
}

// NewAnchor wraps a proof for a pack.
func NewAnchor(p *Proof, now time.Time) *Anchor {
	return &Anchor{Format: AnchorFormat, LeafFormat: LeafFormat, LogOrigin: p.Origin, LogVKey: p.VKey, LogURL: p.URL,
		LeafIndex: p.Index, TLogProof: string(p.TLogProof), AnchoredAt: now.UTC().Format(time.RFC3339Nano)}
}

// WriteAnchor writes a into the pack at _unsigned/anchor.json (temp file and
// rename), replacing an earlier anchor.
func WriteAnchor(packDir string, a *Anchor) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	d := filepath.Join(packDir, pack.DirUnsigned)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", d, err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(packDir, filepath.FromSlash(AnchorFile)), append(b, '\n'), 0o644)
}

// ErrNoAnchor is returned by ReadAnchor when the pack has no anchor.
var ErrNoAnchor = errors.New("the pack has no " + AnchorFile)

// ReadAnchor reads the pack's anchor through os.Root (the pack is outside
// input: a symlink must not lead the reader elsewhere). A malformed anchor
// is an error other than ErrNoAnchor.
func ReadAnchor(packDir string) (*Anchor, error) {
	root, err := os.OpenRoot(packDir)
	if err != nil {
		return nil, fmt.Errorf("open pack: %w", err)
	}
	defer root.Close()
	f, err := root.Open(AnchorFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoAnchor
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", AnchorFile, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxAnchor+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", AnchorFile, err)
	}
	if buf.Len() > maxAnchor {
		return nil, fmt.Errorf("%s is larger than %d bytes", AnchorFile, maxAnchor)
	}
	return ParseAnchor(buf.Bytes())
}

// ParseAnchor parses anchor.json bytes.
func ParseAnchor(b []byte) (*Anchor, error) {
	var a Anchor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%s is not a valid anchor: %v", AnchorFile, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s has data after the anchor object", AnchorFile)
	}
	if a.Format != AnchorFormat {
		return nil, fmt.Errorf("%s: format %q is not %s", AnchorFile, a.Format, AnchorFormat)
	}
	if a.LeafFormat != LeafFormat {
		return nil, fmt.Errorf("%s: leaf format %q is not %s", AnchorFile, a.LeafFormat, LeafFormat)
	}
	return &a, nil
}
