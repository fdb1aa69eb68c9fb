package tlog

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	fproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
)

// Source is a log to read: a local directory or a tlog-tiles URL.
type Source struct {
	checkpoint client.CheckpointFetcherFunc
	tiles      client.TileFetcherFunc
	vkey       func(context.Context) (string, error)
	Name       string
}

// OpenSource reads a log from dir (its tiles/ subdirectory) or from an
// http(s) tlog-tiles prefix.
func OpenSource(loc string, c *http.Client) (*Source, error) {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		u, err := CheckLogURL(loc)
		if err != nil {
			return nil, err
		}
		f, err := client.NewHTTPFetcher(u, c)
		if err != nil {
			return nil, err
		}
		vk := func(ctx context.Context) (string, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath(VKeyPath).String(), nil)
			resp, err := c.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("GET %s: %s", VKeyPath, resp.Status)
			}
			var b bytes.Buffer
			_, err = b.ReadFrom(http.MaxBytesReader(nil, resp.Body, 8192))
			return strings.TrimSpace(b.String()), err
		}
		return &Source{checkpoint: f.ReadCheckpoint, tiles: f.ReadTile, vkey: vk, Name: u.Redacted()}, nil
	}
	tiles := filepath.Join(loc, DirTiles)
	if _, err := os.Stat(filepath.Join(tiles, "checkpoint")); err != nil {
		return nil, fmt.Errorf("%s holds no log (no %s/checkpoint)", loc, DirTiles)
	}
	f := client.FileFetcher{Root: tiles}
	vk := func(context.Context) (string, error) {
		b, err := os.ReadFile(filepath.Join(loc, FileLogVKey))
		return strings.TrimSpace(string(b)), err
	}
	return &Source{checkpoint: f.ReadCheckpoint, tiles: f.ReadTile, vkey: vk, Name: loc}, nil
}

// CheckpointRef names a checkpoint in reports.
type CheckpointRef struct {
	Origin string `json:"origin"`
	Size   uint64 `json:"size"`
	Root   string `json:"root_hash"`
	// From is where it came from: the log, or a pack path.
	From string `json:"from"`
}

func (c CheckpointRef) String() string {
	r := c.Root
	if len(r) > 16 {
		r = r[:16] + "…"
	}
	return fmt.Sprintf("%s size %d root %s (%s)", c.Origin, c.Size, r, c.From)
}

// PackCheck is one pack's result in a log verification.
type PackCheck struct {
	Pack       string         `json:"pack"`
	Checkpoint *CheckpointRef `json:"checkpoint,omitempty"`
	LeafIndex  uint64         `json:"leaf_index"`
	// Status: consistent, split_view, invalid_anchor or no_anchor.
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// LogReport is the outcome of `assay log verify`.
type LogReport struct {
	Log    string        `json:"log"`
	Origin string        `json:"origin"`
	Latest CheckpointRef `json:"latest_checkpoint"`
	Packs  []PackCheck   `json:"packs"`
	// SplitView holds the first two checkpoints found to diverge.
	SplitView []CheckpointRef `json:"split_view,omitempty"`
	OK        bool            `json:"ok"`
}

// ExitCode is `assay log verify`'s code for the report: 2 when a pack shows
// a split view or an anchor that does not verify, else 1 when a pack
// carries no anchor, else 0.
func (r *LogReport) ExitCode() int {
	code := exit.OK
	for _, p := range r.Packs {
		switch p.Status {
		case "no_anchor":
			code = max(code, exit.HonestFail)
		case "split_view", "invalid_anchor":
			code = exit.Tampered
		}
	}
	return code
}

// VerifyLog reads the log's current checkpoint (verified with logKey, else
// the key the log or the first pack names), then checks each pack's anchor
// and that the pack's checkpoint is consistent with the current one: the log
// only appended since. A pack checkpoint that cannot be an earlier state of
// this log is a split view.
func VerifyLog(ctx context.Context, src *Source, logKey string, packs []string) (*LogReport, error) {
	if logKey == "" {
		for _, p := range packs {
			if a, err := ReadAnchor(p); err == nil {
				logKey = a.LogVKey
				break
			}
		}
	}
	if logKey == "" {
		k, err := src.vkey(ctx)
		if err != nil {
			return nil, fmt.Errorf("no log key: pass --log-key (the log's vkey): %v", err)
		}
		logKey = k
	}
	v, err := fnote.NewVerifier(logKey)
	if err != nil {
		return nil, fmt.Errorf("log key: %v", err)
	}
	raw, err := src.checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the log's checkpoint: %w", err)
	}
	cur, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
	if err != nil {
		return nil, &InvalidError{Reason: fmt.Sprintf("the log's current checkpoint: %v", err)}
	}
	rep := &LogReport{Log: src.Name, Origin: cur.Origin, Latest: ref(cur, "log "+src.Name), Packs: []PackCheck{}, OK: true}
	var pb *client.ProofBuilder
	for _, p := range packs {
		pc := PackCheck{Pack: p}
		a, err := ReadAnchor(p)
		if err != nil {
			pc.Status, pc.Detail, rep.OK = "no_anchor", err.Error(), false
			rep.Packs = append(rep.Packs, pc)
			continue
		}
		ver, err := VerifyAnchor(p, VerifyOptions{LogKey: logKey})
		if err != nil {
			pc.Status, pc.Detail, rep.OK = "invalid_anchor", err.Error(), false
			rep.Packs = append(rep.Packs, pc)
			continue
		}
		pc.LeafIndex = ver.LeafIndex
		var tp fproof.TLogProof
		_ = tp.Unmarshal([]byte(a.TLogProof)) // verified above
		pcp, _, _, _ := log.ParseCheckpoint(tp.Checkpoint, v.Name(), v)
		r := ref(pcp, "pack "+p)
		pc.Checkpoint = &r
		if err := consistent(ctx, &pb, src, pcp, cur); err != nil {
			pc.Status, pc.Detail, rep.OK = "split_view", err.Error(), false
			if rep.SplitView == nil {
				rep.SplitView = []CheckpointRef{r, rep.Latest}
			}
		} else {
			pc.Status = "consistent"
		}
		rep.Packs = append(rep.Packs, pc)
	}
	return rep, nil
}

func ref(cp *log.Checkpoint, from string) CheckpointRef {
	return CheckpointRef{Origin: cp.Origin, Size: cp.Size, Root: hex.EncodeToString(cp.Hash), From: from}
}

// consistent proves old is an earlier state of cur using the log's tiles.
func consistent(ctx context.Context, pb **client.ProofBuilder, src *Source, old, cur *log.Checkpoint) error {
	switch {
	case old.Size > cur.Size:
		return fmt.Errorf("the pack's checkpoint (size %d) is larger than the log's (size %d): the log was rolled back or shows another history", old.Size, cur.Size)
	case old.Size == cur.Size:
		if !bytes.Equal(old.Hash, cur.Hash) {
			return fmt.Errorf("same size %d, different root hashes", old.Size)
		}
		return nil
	case old.Size == 0:
		return nil
	}
	if *pb == nil {
		b, err := client.NewProofBuilder(ctx, cur.Size, src.tiles)
		if err != nil {
			return fmt.Errorf("read the log's tiles: %w", err)
		}
		*pb = b
	}
	path, err := (*pb).ConsistencyProof(ctx, old.Size, cur.Size)
	if err != nil {
		return fmt.Errorf("build a consistency proof %d→%d: %w", old.Size, cur.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cur.Size, path, old.Hash, cur.Hash); err != nil {
		return fmt.Errorf("no consistency between size %d and %d: %v", old.Size, cur.Size, err)
	}
	return nil
}

// ConsistencyBetween checks two signed checkpoints of one log (both verified
// with vkey) against the log's tiles.
func ConsistencyBetween(ctx context.Context, src *Source, vkey string, older, newer []byte) error {
	v, err := fnote.NewVerifier(vkey)
	if err != nil {
		return err
	}
	var cps [2]*log.Checkpoint
	for i, raw := range [][]byte{older, newer} {
		cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
		if err != nil {
			return &InvalidError{Reason: err.Error()}
		}
		cps[i] = cp
	}
	var pb *client.ProofBuilder
	if cps[0].Size > cps[1].Size {
		cps[0], cps[1] = cps[1], cps[0]
	}
	// Proofs come from the tiles of the larger tree, so build for it.
	b, err := client.NewProofBuilder(ctx, cps[1].Size, src.tiles)
	if err != nil {
		return err
	}
	pb = b
	return consistent(ctx, &pb, src, cps[0], cps[1])
}
