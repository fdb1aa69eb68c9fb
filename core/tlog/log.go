package tlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/transparency-dev/formats/log"
	fproof "github.com/transparency-dev/formats/proof"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/assay-dev/assay/core/fsutil"
)

// Files of a local log directory. The tiles directory is what a team log
// serves; the private key sits beside it, never inside it.
const (
	FileLogKey  = "log.key" // x/mod note signing key (0600)
	FileLogVKey = "log.vkey"
	DirTiles    = "tiles"
)

// Tuning for a CLI that appends and exits: tessera's default checkpoint
// interval (10 s) would make every anchor wait 10 s; 100 ms is POSIX's
// minimum and brings an anchor to ~150 ms (transparency.md §2.5).
const (
	checkpointInterval = 100 * time.Millisecond
	batchMaxAge        = 20 * time.Millisecond
	awaitPoll          = 20 * time.Millisecond
	witnessTimeout     = 10 * time.Second
)

// LogKeys are a log's note signer and verifier; the origin is the key name.
type LogKeys struct {
	Signer   note.Signer
	Verifier note.Verifier
	VKey     string
}

// Origin is the log's identity (its key name).
func (k *LogKeys) Origin() string { return k.Verifier.Name() }

// DefaultOrigin names a new local log: unique, so a witness that cosigned
// one log never confuses it with another created later.
func DefaultOrigin() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "assay.local/log-" + hex.EncodeToString(b)
}

// OpenKeys loads the log key in dir, creating the directory and a fresh key
// named origin (DefaultOrigin when empty) on first use.
func OpenKeys(dir, origin string) (*LogKeys, error) {
	kp := filepath.Join(dir, FileLogKey)
	skey, err := os.ReadFile(kp)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create log directory: %w", err)
		}
		if origin == "" {
			origin = DefaultOrigin()
		}
		s, v, err := note.GenerateKey(rand.Reader, origin)
		if err != nil {
			return nil, fmt.Errorf("log origin %q: %w", origin, err)
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, FileLogVKey), []byte(v+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write log public key: %w", err)
		}
		if err := fsutil.WriteFileAtomic(kp, []byte(s+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write log key: %w", err)
		}
		skey = []byte(s)
	} else if err != nil {
		return nil, fmt.Errorf("read log key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("%s is not a note signing key: %w", kp, err)
	}
	if origin != "" && origin != s.Name() {
		return nil, fmt.Errorf("the log in %s has origin %s, not %s", dir, s.Name(), origin)
	}
	vraw, err := os.ReadFile(filepath.Join(dir, FileLogVKey))
	if err != nil {
		return nil, fmt.Errorf("read log public key: %w", err)
	}
	vkey := strings.TrimSpace(string(vraw))
	v, err := note.NewVerifier(vkey)
	if err != nil || v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		return nil, fmt.Errorf("%s does not match %s", FileLogVKey, FileLogKey)
	}
	return &LogKeys{Signer: s, Verifier: v, VKey: vkey}, nil
}

// Appender appends leaves to a local POSIX tlog-tiles log and returns
// offline proofs. One per process: tessera's POSIX storage locks its state
// files, so several processes may append to the same directory.
type Appender struct {
	Keys     *LogKeys
	dir      string
	app      *tessera.Appender
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc
}

// AppendOptions tune an Appender.
type AppendOptions struct {
	// Origin names a new log (ignored when the log exists).
	Origin string
	// Witnesses, when set, must cosign every checkpoint the log publishes.
	Witnesses *Policy
	// BatchSize is the sequencing batch (default 1: one anchor at a time;
	// a server or a bulk anchor raises it).
	BatchSize uint
}

// OpenAppender opens (or creates) the log in dir.
func OpenAppender(ctx context.Context, dir string, o AppendOptions) (*Appender, error) {
	keys, err := OpenKeys(dir, o.Origin)
	if err != nil {
		return nil, err
	}
	drv, err := posix.New(ctx, posix.Config{Path: filepath.Join(dir, DirTiles)})
	if err != nil {
		return nil, fmt.Errorf("open log storage: %w", err)
	}
	return newAppender(ctx, drv, keys, dir, checkpointInterval, o)
}

// NewAppender is newAppender for storage backends in packages of their own
// (tlogaws), kept apart so that binaries which never write a log on them
// do not link their SDKs.
func NewAppender(ctx context.Context, drv tessera.Driver, keys *LogKeys, dir string, interval time.Duration, o AppendOptions) (*Appender, error) {
	return newAppender(ctx, drv, keys, dir, interval, o)
}

// newAppender starts tessera's appender on a storage driver (POSIX or AWS)
// with the log's signer, the checkpoint interval, batching and witnesses.
func newAppender(ctx context.Context, drv tessera.Driver, keys *LogKeys, dir string, interval time.Duration, o AppendOptions) (*Appender, error) {
	if o.BatchSize == 0 {
		o.BatchSize = 1
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(keys.Signer).
		WithCheckpointInterval(interval).
		WithBatching(o.BatchSize, batchMaxAge)
	if o.Witnesses != nil {
		wg, err := o.Witnesses.tesseraGroup()
		if err != nil {
			return nil, err
		}
		opts = opts.WithWitnesses(wg, &tessera.WitnessOptions{Timeout: witnessTimeout})
	}
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	app, shutdown, rd, err := tessera.NewAppender(actx, drv, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &Appender{
		Keys: keys, dir: dir, app: app, reader: rd, shutdown: shutdown, cancel: cancel,
		awaiter: tessera.NewPublicationAwaiter(actx, rd.ReadCheckpoint, awaitPoll),
	}, nil
}

// Close flushes and stops the appender.
func (a *Appender) Close(ctx context.Context) error {
	err := a.shutdown(ctx)
	a.cancel()
	return err
}

// Append adds leaves to the log, waits until a published checkpoint covers
// them all, and returns one proof per leaf against that checkpoint.
func (a *Appender) Append(ctx context.Context, leaves [][]byte) ([]*Proof, error) {
	futures := make([]tessera.IndexFuture, len(leaves))
	for i, l := range leaves {
		if len(l) > MaxEntry {
			return nil, fmt.Errorf("leaf %d is %d bytes; a log entry holds at most %d", i, len(l), MaxEntry)
		}
		futures[i] = a.app.Add(ctx, tessera.NewEntry(l))
	}
	idx := make([]uint64, len(leaves))
	for i, f := range futures {
		x, _, err := a.awaiter.Await(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("append to log: %w", err)
		}
		idx[i] = x.Index
	}
	cpRaw, err := a.reader.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return proofsFor(ctx, a.Keys, cpRaw, a.reader.ReadTile, leaves, idx)
}

// proofsFor builds and checks the inclusion proof of each leaf against the
// signed checkpoint cpRaw.
func proofsFor(ctx context.Context, k *LogKeys, cpRaw []byte, tiles client.TileFetcherFunc, leaves [][]byte, idx []uint64) ([]*Proof, error) {
	cp, _, _, err := log.ParseCheckpoint(cpRaw, k.Origin(), k.Verifier)
	if err != nil {
		return nil, fmt.Errorf("log checkpoint: %w", err)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, tiles)
	if err != nil {
		return nil, fmt.Errorf("read log tiles: %w", err)
	}
	out := make([]*Proof, len(leaves))
	for i, l := range leaves {
		if idx[i] >= cp.Size {
			return nil, fmt.Errorf("entry %d is not covered by checkpoint of size %d", idx[i], cp.Size)
		}
		path, err := pb.InclusionProof(ctx, idx[i])
		if err != nil {
			return nil, fmt.Errorf("inclusion proof for entry %d: %w", idx[i], err)
		}
		// Check before handing it out: a proof that does not verify here
		// would only fail later, in someone else's hands.
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, idx[i], cp.Size, rfc6962.DefaultHasher.HashLeaf(l), path, cp.Hash); err != nil {
			return nil, fmt.Errorf("inclusion proof for entry %d does not verify: %w", idx[i], err)
		}
		tp := fproof.TLogProof{Index: idx[i], Checkpoint: cpRaw}
		for _, h := range path {
			tp.Hashes = append(tp.Hashes, [32]byte(h))
		}
		out[i] = &Proof{Origin: k.Origin(), VKey: k.VKey, Index: idx[i], TLogProof: tp.Marshal()}
	}
	return out, nil
}

// Proof is one leaf's offline proof: the C2SP tlog-proof text and the log
// that issued it.
type Proof struct {
	Origin    string
	VKey      string
	URL       string
	Index     uint64
	TLogProof []byte
}
