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
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/internal/lazyre"
)

// EnvHome overrides the home directory; EnvTrace names the current trace.
const (
	EnvHome  = "ASSAY_HOME"
	EnvTrace = "ASSAY_TRACE_ID"
)

// Home returns the assay home of this process: $ASSAY_HOME, else
// ~/.assay (or the legacy ~/.loom/assay when only that exists). It reads the
// process environment, so only a program's entry point should call it;
// everything else takes the home (or a getenv) from its caller: HomeFrom.
func Home() (string, error) { return HomeFrom(os.Getenv) }

// HomeFrom resolves the assay home from the environment getenv describes
// ($ASSAY_HOME, else $HOME/.assay or the legacy $HOME/.loom/assay), so a
// caller (a test, a server with its own configuration) states its
// environment instead of inheriting the process's.
func HomeFrom(getenv func(string) string) (string, error) {
	if h := getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	u := getenv("HOME")
	if u == "" {
		return "", exit.Bad("set ASSAY_HOME", "cannot find a home directory: $HOME is not defined")
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
	mu      sync.Mutex           // guards seqs
	seqs    map[string]int64     // next per-trace seq for traces this process writes
	paths   map[string]string    // trace id -> file, once known
	tails   map[string]tailState // what this process last appended to each trace
	seqFile *os.File             // the locked .store_seq, while a flush holds it

	fmu      sync.Mutex // serialises flushes (paths, tails, seqFile)
	qmu      sync.Mutex // guards queue and flushing
	queue    []*pending
	flushing bool

	observer atomic.Pointer[Observer] // see Observe
}

// tailState remembers the size of a trace file after our last append and
// the _store_seq written there, so the next append need not read the tail
// again unless another writer appended in between.
type tailState struct {
	size int64
	seq  int64
}

// Open returns the store at home.
func Open(home string) *Store {
	return &Store{Home: home, seqs: map[string]int64{}, paths: map[string]string{}, tails: map[string]tailState{}}
}

// OpenDefault opens the store at Home() (the process's environment).
func OpenDefault() (*Store, error) { return OpenFrom(os.Getenv) }

// OpenFrom opens the store at HomeFrom(getenv).
func OpenFrom(getenv func(string) string) (*Store, error) {
	h, err := HomeFrom(getenv)
	if err != nil {
		return nil, err
	}
	return Open(h), nil
}

// validTraceChars reports whether id is 1 to 200 of [A-Za-z0-9._-]. A loop,
// not a regexp: `{1,200}` compiled at init cost every command 2 ms.
func validTraceChars(id string) bool {
	if len(id) == 0 || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidTraceID rejects ids that could escape the store directory.
func ValidTraceID(id string) error {
	if !validTraceChars(id) || strings.HasPrefix(id, ".") {
		return exit.Bad("trace ids look like trace_20260115T115900_1a2b3c4d", "invalid trace id %q", id)
	}
	return nil
}

// NewTraceID returns trace_<YYYYmmddTHHMMSS UTC>_<8 hex>.
func NewTraceID() string {
	return "trace_" + time.Now().UTC().Format("20060102T150405") + "_" + receipt.NewID("", 8)[0:8]
}

var dayDir = lazyre.New(`^\d{4}-\d{2}-\d{2}$`)

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
		return "", false, exit.Bad("point ASSAY_HOME at a directory (or unset it for ~/.assay)", "cannot read the trace store %s: %v", s.Home, fsutil.Reason(err))
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && dayDir().MatchString(e.Name()) {
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
// to the trace file, under the store lock, with fsync: when Append returns
// nil the receipt is durable. The stamps are set on r itself so the caller
// sees what was written. Appending never reads the rest of the store.
//
// Concurrent appends in one process share the work (group commit): one
// caller takes the lock, writes every queued receipt and fsyncs each file
// once, so throughput is not bounded by one fsync per receipt.
func (s *Store) Append(traceID string, r *receipt.Receipt) error {
	return s.appendAll(traceID, []*receipt.Receipt{r})[0]
}

// appendAll queues rs in order and waits until each is durable (or
// failed); the first caller to find no flush running leads, flushing
// batches until the queue is empty.
func (s *Store) appendAll(traceID string, rs []*receipt.Receipt) []error {
	errs := make([]error, len(rs))
	if err := ValidTraceID(traceID); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	ps := make([]*pending, len(rs))
	for i, r := range rs {
		ps[i] = &pending{trace: traceID, r: r, done: make(chan error, 1)}
	}
	s.qmu.Lock()
	s.queue = append(s.queue, ps...)
	lead := !s.flushing
	s.flushing = true
	s.qmu.Unlock()
	if lead {
		for {
			s.qmu.Lock()
			batch := s.queue
			s.queue = nil
			if len(batch) == 0 {
				s.flushing = false
				s.qmu.Unlock()
				break
			}
			s.qmu.Unlock()
			s.flush(batch)
		}
	}
	for i, p := range ps {
		if errs[i] = <-p.done; errs[i] == nil {
			s.observed(traceID, p.r)
		}
	}
	return errs
}

type pending struct {
	trace string
	r     *receipt.Receipt
	done  chan error
}

// flush writes one batch under the store lock and reports to each waiter.
func (s *Store) flush(batch []*pending) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	fail := func(ps []*pending, err error) {
		for _, p := range ps {
			p.done <- err
		}
	}
	unlock, err := s.lock()
	if err != nil {
		fail(batch, err)
		return
	}
	defer unlock()
	base, err := s.readStoreSeq()
	if err != nil {
		fail(batch, err)
		return
	}
	type open struct {
		f       *os.File
		path    string
		waiters []*pending
		seq     int64
	}
	files := map[string]*open{}
	var order []*open
	for _, p := range batch {
		o := files[p.trace]
		if o == nil {
			path := s.paths[p.trace]
			if path == "" {
				if path, err = s.Path(p.trace); err != nil {
					p.done <- err
					continue
				}
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				p.done <- fmt.Errorf("receipt not written: create store directory: %w", err)
				continue
			}
			f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				p.done <- fmt.Errorf("receipt not written: open trace file: %w", err)
				continue
			}
			o = &open{f: f, path: path, seq: -1}
			if last, ok := s.lastStoreSeq(f, p.trace); ok {
				o.seq = last
			}
			files[p.trace] = o
			order = append(order, o)
		}
		seq := max(base, o.seq+1)
		p.r.Set("_trace_id", p.trace)
		p.r.Set("_stored_at", receipt.Now())
		p.r.Set("_store_seq", seq)
		line, err := storeLineOpts.Marshal(p.r)
		if err != nil {
			p.done <- fmt.Errorf("receipt not written: %w", err)
			continue
		}
		if _, err := o.f.Write(append(line, '\n')); err != nil {
			p.done <- fmt.Errorf("receipt not written: append to %s: %w", o.path, err)
			continue
		}
		base, o.seq = seq+1, seq
		o.waiters = append(o.waiters, p)
	}
	if err := s.writeStoreSeq(base); err != nil {
		for _, o := range order {
			fail(o.waiters, err)
			o.f.Close()
		}
		return
	}
	for _, o := range order {
		err := o.f.Sync()
		if err != nil {
			err = fmt.Errorf("receipt not durable: fsync %s: %w", o.path, err)
		} else {
			trace := o.waiters
			if len(trace) > 0 {
				s.paths[trace[0].trace] = o.path
				if st, serr := o.f.Stat(); serr == nil {
					s.tails[trace[0].trace] = tailState{size: st.Size(), seq: o.seq}
				}
			}
		}
		o.f.Close()
		fail(o.waiters, err)
	}
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

// readStoreSeq reads the next value to allocate from the locked counter
// file (empty: 0). Allocations are also kept above the last stamp of each
// trace file written (see flush), so a trace written by several emitters
// (ours and the reference's) stays strictly increasing whatever the others
// store in the counter.
func (s *Store) readStoreSeq() (int64, error) {
	raw := make([]byte, 32)
	n, err := s.seqFile.ReadAt(raw, 0)
	if err != nil && err != io.EOF {
		return 0, fmt.Errorf("receipt not written: read .store_seq: %w", err)
	}
	t := strings.TrimSpace(string(raw[:n]))
	if t == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("receipt not written: %s/.store_seq holds %q, not a number", s.Home, t)
	}
	return v, nil
}

func (s *Store) writeStoreSeq(next int64) error {
	if err := s.seqFile.Truncate(0); err != nil {
		return fmt.Errorf("receipt not written: update .store_seq: %w", err)
	}
	if _, err := s.seqFile.WriteAt([]byte(strconv.FormatInt(next, 10)), 0); err != nil {
		return fmt.Errorf("receipt not written: update .store_seq: %w", err)
	}
	return nil
}

// lastStoreSeq returns the _store_seq of the trace file's last line. When
// the file is as this process left it, the remembered value is used; else
// only the tail is read (a few KiB, doubling until a whole line is seen).
func (s *Store) lastStoreSeq(f *os.File, traceID string) (int64, bool) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, false
	}
	if t, ok := s.tails[traceID]; ok && t.size == st.Size() {
		return t.seq, true
	}
	for size := int64(4 << 10); ; size *= 2 {
		n := min(size, st.Size())
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, st.Size()-n); err != nil && err != io.EOF {
			return 0, false
		}
		buf = bytes.TrimRight(buf, "\n")
		i := bytes.LastIndexByte(buf, '\n')
		if i < 0 && n < st.Size() && size < 64<<20 {
			continue
		}
		return seqOfLine(buf[i+1:])
	}
}

func seqOfLine(line []byte) (int64, bool) {
	v, err := canon.Decode(line)
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
