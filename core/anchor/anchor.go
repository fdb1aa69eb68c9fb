// Package anchor is the `assay anchor` use case: check that each pack is
// intact (core/verify), append their leaves to a transparency log in one
// batch (core/tlog: local or team log) and store each proof in its pack.
package anchor

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

// Request is `assay anchor`: append packs to a log and store each
// proof in its pack.
type Request struct {
	Packs []string // pack directories (bundles are refused)
	// Log is a local log directory or a team log's http(s) URL.
	Log string
	// Local log: Origin names a log created now; WitnessPolicy is a
	// C2SP tlog-policy file whose quorum cosigns each checkpoint.
	Origin        string
	WitnessPolicy string
	// Team log: its bearer token (never shown) and, optionally, its
	// public key (a vkey or a file holding one) pinned for the proofs.
	Token  string
	LogKey string
	Now    time.Time
	// Client talks to a team log (default a client with a 60 s timeout).
	Client *http.Client
}

// Anchored is one anchored pack (the --json document's entries).
type Anchored struct {
	Pack       string `json:"pack"`
	PackID     string `json:"pack_id"`
	LogOrigin  string `json:"log_origin"`
	LeafIndex  uint64 `json:"leaf_index"`
	AnchorFile string `json:"anchor_file"`
}

// IsLogURL reports whether a --log value names a team log.
func IsLogURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// Packs verifies each pack's integrity (anchoring a changed pack
// would log a lie), appends their leaves to the log in one batch, and
// writes each proof into its pack's _unsigned/anchor.json. Nothing is
// appended unless every pack is intact.
func Packs(ctx context.Context, r Request) ([]Anchored, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	leaves := make([][]byte, len(r.Packs))
	ids := make([]string, len(r.Packs))
	for i, p := range r.Packs {
		l, err := anchorLeaf(p)
		if err != nil {
			return nil, err
		}
		leaves[i], ids[i] = l.Bytes(), l.PackID
	}
	var proofs []*tlog.Proof
	var err error
	if IsLogURL(r.Log) {
		proofs, err = remoteAnchor(ctx, r, leaves)
	} else {
		proofs, err = localAnchor(ctx, r, leaves)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Anchored, len(r.Packs))
	for i, p := range r.Packs {
		if err := tlog.WriteAnchor(p, tlog.NewAnchor(proofs[i], r.Now)); err != nil {
			return nil, fmt.Errorf("write the anchor into %s: %w", p, err)
		}
		out[i] = Anchored{Pack: p, PackID: ids[i], LogOrigin: proofs[i].Origin, LeafIndex: proofs[i].Index, AnchorFile: filepath.Join(p, filepath.FromSlash(tlog.AnchorFile))}
	}
	return out, nil
}

// anchorLeaf checks that p is an intact pack directory and returns its leaf.
func anchorLeaf(p string) (tlog.Leaf, error) {
	pk, err := verify.OpenIntactDir(p, "anchor")
	if err != nil {
		return tlog.Leaf{}, err
	}
	defer pk.Close()
	l, err := tlog.LeafOf(pk) // the manifest bytes just verified, not a second read
	if err != nil {
		return tlog.Leaf{}, exit.Bad("anchor a proof pack built by 'assay proof-pack' or the reference", "%s: %v", p, err)
	}
	return l, nil
}

func localAnchor(ctx context.Context, r Request, leaves [][]byte) ([]*tlog.Proof, error) {
	if r.Log == "" {
		return nil, exit.Bad("give --log DIR", "no log directory")
	}
	o := tlog.AppendOptions{Origin: r.Origin, BatchSize: uint(len(leaves))}
	if r.WitnessPolicy != "" {
		var err error
		if o.Witnesses, err = tlog.LoadPolicy(r.WitnessPolicy); err != nil {
			return nil, err
		}
	}
	a, err := tlog.OpenAppender(ctx, r.Log, o)
	if err != nil {
		return nil, exit.New(exit.HonestFail, "check the log directory "+r.Log+" (and the witnesses, with --witness-policy)", "%v", err)
	}
	proofs, err := a.Append(ctx, leaves)
	if cerr := a.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, exit.New(exit.HonestFail, "check the log directory "+r.Log, "%v", err)
	}
	return proofs, nil
}

func remoteAnchor(ctx context.Context, r Request, leaves [][]byte) ([]*tlog.Proof, error) {
	logKey := r.LogKey
	if logKey != "" {
		var err error
		if logKey, err = tlog.LoadLogKey(logKey); err != nil {
			return nil, err
		}
	}
	if _, err := tlog.CheckLogURL(r.Log); err != nil {
		return nil, exit.Bad("give the team log's https:// URL", "--log: %v", err)
	}
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	ps, err := tlog.RemoteAppend(ctx, c, r.Log, r.Token, logKey, leaves)
	if err != nil {
		return nil, exit.New(exit.HonestFail, "check the log URL, the token and that 'assay log serve' runs", "%v", err)
	}
	return ps, nil
}
