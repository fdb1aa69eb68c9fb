// Package store is the trace store: one append-only JSONL file per trace
// under <home>/<UTC date>/<trace_id>.jsonl, each line stamped with
// _trace_id, _stored_at and a store-wide _store_seq allocated under an
// exclusive lock on <home>/.store_seq. Appends are O(1) (DECISIONS 12).
package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

// EnvHome overrides the home directory; EnvTrace names the current trace.
const (
	EnvHome  = "ASSAY_HOME"
	EnvTrace = "ASSAY_TRACE_ID"
)

// Home returns the assay home: $ASSAY_HOME, else ~/.assay (or the legacy
// ~/.loom/assay when only that exists).
func Home() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", exit.Bad("set ASSAY_HOME", "cannot find a home directory: %v", err)
	}
	h := filepath.Join(u, ".assay")
	legacy := filepath.Join(u, ".loom", "assay")
	if _, err := os.Stat(h); errors.Is(err, fs.ErrNotExist) {
		if st, err := os.Stat(legacy); err == nil && st.IsDir() {
			return legacy, nil
		}
	}
	return h, nil
}

// Store is a trace store rooted at Home.
type Store struct {
	Home    string
	mu      sync.Mutex
	seqs    map[string]int64 // next per-trace seq for traces this process writes
	seqFile *os.File         // the locked .store_seq, while Append holds it
}

// Open returns the store at home.
func Open(home string) *Store { return &Store{Home: home, seqs: map[string]int64{}} }

// OpenDefault opens the store at Home().
func OpenDefault() (*Store, error) {
	h, err := Home()
	if err != nil {
		return nil, err
	}
	return Open(h), nil
}

var traceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// ValidTraceID rejects ids that could escape the store directory.
func ValidTraceID(id string) error {
	if !traceIDPattern.MatchString(id) || strings.HasPrefix(id, ".") {
		return exit.Bad("trace ids look like trace_20260115T115900_1a2b3c4d", "invalid trace id %q", id)
	}
	return nil
}

// NewTraceID returns trace_<YYYYmmddTHHMMSS UTC>_<8 hex>.
func NewTraceID() string {
	return "trace_" + time.Now().UTC().Format("20060102T150405") + "_" + receipt.NewID("", 8)[0:8]
}

var dayDir = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Find returns the existing file of a trace, searching every day directory
// (a run that crosses midnight keeps its first file). ok is false when the
// trace has no file yet.
func (s *Store) Find(traceID string) (string, bool, error) {
	if err := ValidTraceID(traceID); err != nil {
		return "", false, err
	}
	ents, err := os.ReadDir(s.Home)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read store %s: %w", s.Home, err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && dayDir.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, d := range names {
		p := filepath.Join(s.Home, d, traceID+".jsonl")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true, nil
		}
	}
	return "", false, nil
}

// Path returns the trace's file: the existing one, or today's new path.
func (s *Store) Path(traceID string) (string, error) {
	p, ok, err := s.Find(traceID)
	if err != nil || ok {
		return p, err
	}
	return filepath.Join(s.Home, time.Now().UTC().Format("2006-01-02"), traceID+".jsonl"), nil
}

// storeLineOpts writes store lines compactly in insertion order; U+2028
// and friends are escaped so a line stays a line for every reader.
var storeLineOpts = canon.Options{KeepOrder: true, EscapeLineSeparators: true}

// Append stamps r with _trace_id, _stored_at and _store_seq and appends it
// to the trace file, under the store lock, with fsync. The stamps are set on
// r itself so the caller sees what was written. Appending never reads the
// rest of the store.
func (s *Store) Append(traceID string, r *receipt.Receipt) error {
	if err := ValidTraceID(traceID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := s.Path(traceID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("receipt not written: create store directory: %w", err)
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("receipt not written: open trace file: %w", err)
	}
	defer f.Close()
	seq, err := s.nextStoreSeq(path)
	if err != nil {
		return err
	}
	r.Set("_trace_id", traceID)
	r.Set("_stored_at", receipt.Now())
	r.Set("_store_seq", seq)
	line, err := storeLineOpts.Marshal(r)
	if err != nil {
		return fmt.Errorf("receipt not written: %w", err)
	}
	line = append(line, '\n')
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("receipt not written: append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("receipt not durable: fsync %s: %w", path, err)
	}
	return nil
}

// lock takes the exclusive flock on <home>/.store_seq.
func (s *Store) lock() (func(), error) {
	if err := os.MkdirAll(s.Home, 0o755); err != nil {
		return nil, fmt.Errorf("receipt not written: create store: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.Home, ".store_seq"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("receipt not written: open .store_seq: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("receipt not written: lock .store_seq: %w", err)
	}
	s.seqFile = f
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		s.seqFile = nil
	}, nil
}

// nextStoreSeq allocates the next _store_seq. The counter file holds the
// next value to allocate; the allocation is also kept above the last stamp
// in this trace file, so a trace written by several emitters (ours and the
// reference's) stays strictly increasing whatever the others store there.
func (s *Store) nextStoreSeq(tracePath string) (int64, error) {
	f := s.seqFile
	raw := make([]byte, 32)
	n, err := f.ReadAt(raw, 0)
	if err != nil && err != io.EOF {
		return 0, fmt.Errorf("receipt not written: read .store_seq: %w", err)
	}
	next := int64(0)
	if t := strings.TrimSpace(string(raw[:n])); t != "" {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("receipt not written: %s/.store_seq holds %q, not a number", s.Home, t)
		}
		next = v
	}
	if last, ok := lastStoreSeq(tracePath); ok && last >= next {
		next = last + 1
	}
	if err := f.Truncate(0); err != nil {
		return 0, fmt.Errorf("receipt not written: update .store_seq: %w", err)
	}
	if _, err := f.WriteAt([]byte(strconv.FormatInt(next+1, 10)), 0); err != nil {
		return 0, fmt.Errorf("receipt not written: update .store_seq: %w", err)
	}
	return next, nil
}

// lastStoreSeq reads the _store_seq of the last line of a trace file by
// looking only at its tail.
func lastStoreSeq(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, false
	}
	size := min(st.Size(), 64<<10)
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, st.Size()-size); err != nil && err != io.EOF {
		return 0, false
	}
	buf = bytes.TrimRight(buf, "\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	}
	v, err := canon.Decode(buf)
	if err != nil {
		return 0, false
	}
	obj, ok := v.(*canon.Object)
	if !ok {
		return 0, false
	}
	n, _ := obj.Get("_store_seq")
	num, ok := n.(canon.Number)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(string(num), 10, 64)
	return x, err == nil
}
