package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/receipt"
)

// Defaults for how often a Writer checkpoints.
const (
	DefaultEvery    = 1000
	DefaultInterval = time.Second
)

// WriterOptions configure Create.
type WriterOptions struct {
	Dir    string // the seal directory; must not exist
	RunID  string
	Signer *keys.Signer // certifies the run key
	// Every and Interval: a checkpoint is written after Every receipts or
	// when Interval has passed since the last one (0: the defaults).
	Every    uint64
	Interval time.Duration
	Now      func() time.Time // default time.Now
}

// Writer appends to a seal. Its run key lives only in its memory. Methods
// are safe for concurrent use.
type Writer struct {
	mu       sync.Mutex
	o        WriterOptions
	runKey   ed25519.PrivateKey
	cert     Cert
	log, cps *os.File
	alts     *os.File
	tree     merkle.Stack
	leaf     *merkle.LeafHasher
	lh       [32]byte
	sinceCP  uint64
	lastCP   Checkpoint
	cpAt     time.Time
	nAlter   int
	closed   bool
}

// Create makes the seal directory (0700), generates the run key, has the
// signer certify it and writes the certification and a first checkpoint
// (size 0).
func Create(o WriterOptions) (*Writer, error) {
	if o.Signer == nil {
		return nil, errors.New("seal: no signer to certify the run key")
	}
	if o.Every == 0 {
		o.Every = DefaultEvery
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: generate run key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.Dir), 0o700); err != nil {
		return nil, fmt.Errorf("seal: create %s: %w", filepath.Dir(o.Dir), err)
	}
	if err := os.Mkdir(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("seal: create %s: %w", o.Dir, err)
	}
	w := &Writer{o: o, runKey: priv, leaf: merkle.NewLeafHasher()}
	w.cert = Cert{Format: CertFormat, RunID: o.RunID, RunKey: base64.StdEncoding.EncodeToString(pub),
		SignerID: o.Signer.ID, SignerKey: keys.PubB64(o.Signer.Public()), IssuedAt: receipt.Timestamp(o.Now())}
	if err := SignCert(&w.cert, o.Signer.Private); err != nil {
		return nil, err
	}
	cb, _ := json.Marshal(w.cert)
	if err := fsutil.WriteFileAtomic(filepath.Join(o.Dir, FileCert), cb, 0o600); err != nil {
		return nil, fmt.Errorf("seal: write certification: %w", err)
	}
	open := func(name string) (*os.File, error) {
		return os.OpenFile(filepath.Join(o.Dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if w.log, err = open(FileLog); err == nil {
		if w.cps, err = open(FileCheckpoints); err == nil {
			w.alts, err = open(FileAlterations)
		}
	}
	if err != nil {
		w.closeFiles()
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.checkpoint(false); err != nil {
		w.closeFiles()
		return nil, err
	}
	return w, nil
}

// Cert is the run key's certification.
func (w *Writer) Cert() Cert { return w.cert }

// Dir is the seal directory.
func (w *Writer) Dir() string { return w.o.Dir }

// Size is how many entries are sealed.
func (w *Writer) Size() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tree.Size()
}

// Root is the current Merkle root (hex).
func (w *Writer) Root() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tree.RootHex()
}

// Seal appends one store line (without its newline) and returns its
// 1-based index. The line reaches the file at once (a killed recorder
// leaves it); the file is synced with each checkpoint.
func (w *Writer) Seal(line []byte) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, errors.New("seal: closed")
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	if _, err := w.log.Write(buf); err != nil {
		return 0, fmt.Errorf("seal: append: %w", err)
	}
	w.leaf.Sum(&w.lh, line)
	w.tree.AddLeafHash(&w.lh)
	w.sinceCP++
	if w.sinceCP >= w.o.Every || w.o.Now().Sub(w.cpAt) >= w.o.Interval {
		if _, err := w.checkpoint(false); err != nil {
			return 0, err
		}
	}
	return w.tree.Size(), nil
}

// Alter records an alteration seen while the run is live.
func (w *Writer) Alter(a Alteration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, _ := json.Marshal(a)
	w.nAlter++
	if _, err := w.alts.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("seal: record alteration: %w", err)
	}
	_, err := w.checkpoint(false)
	return err
}

// Alterations is how many alterations were recorded.
func (w *Writer) Alterations() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nAlter
}

// Tick writes a checkpoint when receipts arrived since the last one and
// the interval has passed (the recorder calls it every interval, so a
// quiet run still gets its last receipts checkpointed).
func (w *Writer) Tick() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.sinceCP == 0 || w.o.Now().Sub(w.cpAt) < w.o.Interval {
		return nil
	}
	_, err := w.checkpoint(false)
	return err
}

// Close writes the final checkpoint and closes the seal; the run key is
// dropped.
func (w *Writer) Close() (Checkpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.lastCP, nil
	}
	cp, err := w.checkpoint(true)
	w.closed = true
	w.closeFiles()
	clear(w.runKey)
	return cp, err
}

// checkpoint syncs the log and appends a signed checkpoint (w.mu held).
func (w *Writer) checkpoint(final bool) (Checkpoint, error) {
	if err := w.log.Sync(); err != nil {
		return Checkpoint{}, fmt.Errorf("seal: sync log: %w", err)
	}
	if err := w.alts.Sync(); err != nil {
		return Checkpoint{}, fmt.Errorf("seal: sync alterations: %w", err)
	}
	now := w.o.Now()
	cp := Checkpoint{Format: CheckpointFormat, RunID: w.o.RunID, TreeSize: w.tree.Size(), Root: w.tree.RootHex(),
		At: receipt.Timestamp(now), Alterations: w.nAlter, Final: final}
	if err := SignCheckpoint(&cp, w.runKey); err != nil {
		return Checkpoint{}, err
	}
	b, _ := json.Marshal(cp)
	if _, err := w.cps.Write(append(b, '\n')); err != nil {
		return Checkpoint{}, fmt.Errorf("seal: write checkpoint: %w", err)
	}
	if err := w.cps.Sync(); err != nil {
		return Checkpoint{}, fmt.Errorf("seal: sync checkpoint: %w", err)
	}
	w.lastCP, w.cpAt, w.sinceCP = cp, now, 0
	return cp, nil
}

func (w *Writer) closeFiles() {
	for _, f := range []*os.File{w.log, w.cps, w.alts} {
		if f != nil {
			f.Close()
		}
	}
}
