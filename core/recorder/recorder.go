// Package recorder is the process that records a run: receipts reach it
// over a local socket (named to the child in ASSAY_RECORDER, see
// core/recorder/client) or by being appended to the trace file the
// reference's way, which it follows. Every receipt it accepts is sealed at
// once (core/seal); at the end it compares the store with what it sealed
// and builds the pack from the seal, so a receipt changed, removed,
// reordered, backdated or cut off in the store after it was recorded is
// detected and recorded, never packed in silence.
//
// `assay run` runs one in-process for its child; `assay recorder serve`
// runs one as a long-lived service (see docs/recorder.md for the threat
// model). The package computes results and never prints.
package recorder

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
)

// Defaults of Options.
const (
	DefaultPoll      = 20 * time.Millisecond
	DefaultTolerance = 5 * time.Second
)

// Options configure a Recorder for one trace.
type Options struct {
	Store   *store.Store // the run's store: socket receipts are appended to it
	TraceID string
	Signer  *keys.Signer // certifies the run key, and later signs the pack
	// SealDir holds the seal (default SealDir(Store.Home, TraceID)).
	SealDir string
	// Socket is the path to listen on; "" makes one in a fresh private
	// directory. Listen false: no socket (the caller feeds Append).
	Socket string
	Listen bool
	// SocketMode is the socket's permission bits (default 0600: the same
	// user only; a recorder serving agents of another user widens it).
	SocketMode os.FileMode
	// Checkpoint cadence (0: seal.DefaultEvery / seal.DefaultInterval).
	Every    uint64
	Interval time.Duration
	// Poll is how often the trace file is followed (default 20ms).
	Poll time.Duration
	// Tolerance is how far a line appended to the file may claim to
	// predate its arrival (store stamp) or the run (timestamp) before it
	// counts as backdated (default 5s).
	Tolerance time.Duration
	Now       func() time.Time
}

// SealDir is where a trace's seal lives in a store.
func SealDir(home, traceID string) string { return filepath.Join(home, "seal", traceID) }

// Recorder records one trace.
type Recorder struct {
	o       Options
	w       *seal.Writer
	path    string // the trace file followed
	started time.Time

	ln      net.Listener
	sockDir string // removed on Close when we made it
	conns   sync.WaitGroup
	connMu  sync.Mutex
	open    map[net.Conn]bool

	mu       sync.Mutex // serialises appends and tailing
	f        *os.File   // the trace file, open between looks
	chunk    []byte     // read buffer, reused
	carry    []byte     // a partial last line, waiting for its newline
	readTo   int64      // bytes of the trace file read (offset + len(carry))
	offset   int64      // bytes of the trace file consumed
	lastSeq  int64      // highest _store_seq sealed (-1: none)
	nextSeq  int64      // one past the highest seq sealed
	pending  map[[32]byte]bool
	finished bool
	err      error // first write error; the run cannot be trusted after it

	stop chan struct{}
	done chan struct{}
}

// Start creates the seal (certifying a fresh run key), creates the trace
// file so every emitter finds the same one, starts following it and, when
// asked, listens on the socket.
func Start(o Options) (*Recorder, error) {
	if o.Store == nil || o.Signer == nil {
		return nil, errors.New("recorder: a store and a signer are required")
	}
	if err := store.ValidTraceID(o.TraceID); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	if o.Tolerance == 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.SealDir == "" {
		o.SealDir = SealDir(o.Store.Home, o.TraceID)
	}
	path, err := o.Store.Path(o.TraceID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("recorder: create the store directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("recorder: create the trace file: %w", err)
	}
	f.Close()
	r := &Recorder{o: o, path: path, started: o.Now(), lastSeq: -1, pending: map[[32]byte]bool{},
		open: map[net.Conn]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	// A trace file that already holds lines (a reused trace id) is sealed
	// as found: the seal starts now.
	r.w, err = seal.Create(seal.WriterOptions{Dir: o.SealDir, RunID: o.TraceID, Signer: o.Signer, Every: o.Every, Interval: o.Interval, Now: o.Now})
	if err != nil {
		return nil, err
	}
	if o.Listen {
		if err := r.listen(); err != nil {
			r.w.Close()
			return nil, err
		}
	}
	go r.follow()
	return r, nil
}

// Addr is the socket path (the value of ASSAY_RECORDER), "" when not
// listening.
func (r *Recorder) Addr() string {
	if r.ln == nil {
		return ""
	}
	return r.o.Socket
}

// TracePath is the trace file the recorder follows.
func (r *Recorder) TracePath() string { return r.path }

// SealDir is the seal's directory.
func (r *Recorder) SealDir() string { return r.o.SealDir }

// Sealed is how many receipts are sealed so far.
func (r *Recorder) Sealed() uint64 { return r.w.Size() }

func (r *Recorder) listen() error {
	if r.o.Socket == "" {
		dir, err := os.MkdirTemp("", "assay-recorder-")
		if err != nil {
			return fmt.Errorf("recorder: socket directory: %w", err)
		}
		r.sockDir = dir
		r.o.Socket = filepath.Join(dir, "recorder.sock")
	}
	ln, err := net.Listen("unix", r.o.Socket)
	if err != nil {
		return fmt.Errorf("recorder: listen on %s: %w", r.o.Socket, err)
	}
	mode := r.o.SocketMode
	if mode == 0 {
		mode = 0o600
	}
	if err := os.Chmod(r.o.Socket, mode); err != nil {
		ln.Close()
		return fmt.Errorf("recorder: socket permissions: %w", err)
	}
	r.ln = ln
	go r.accept()
	return nil
}

func (r *Recorder) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.connMu.Lock()
		r.open[c] = true
		r.connMu.Unlock()
		r.conns.Add(1)
		go r.serve(c)
	}
}

// serve answers one connection's requests, one line each.
func (r *Recorder) serve(c net.Conn) {
	defer r.conns.Done()
	defer func() {
		r.connMu.Lock()
		delete(r.open, c)
		r.connMu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriter(c)
	for {
		line, err := readFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.reply(bw, client.Ack{Error: err.Error(), Code: exit.BadInput})
			}
			return
		}
		r.reply(bw, r.handle(line))
	}
}

func readFrame(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > client.MaxFrame {
			return nil, fmt.Errorf("request larger than %d bytes", client.MaxFrame)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if len(bytes.TrimSpace(buf)) > 0 && errors.Is(err, io.EOF) {
				return buf, nil
			}
			return nil, err
		}
		return buf, nil
	}
}

func (r *Recorder) reply(bw *bufio.Writer, a client.Ack) {
	b, _ := json.Marshal(a)
	bw.Write(append(b, '\n'))
	bw.Flush()
}

// handle answers one request.
func (r *Recorder) handle(line []byte) client.Ack {
	v, err := canon.Decode(bytes.TrimSpace(line))
	if err != nil {
		return client.Ack{Error: "request is not JSON: " + err.Error(), Code: exit.BadInput}
	}
	req, ok := v.(*canon.Object)
	if !ok {
		return client.Ack{Error: "request is not a JSON object", Code: exit.BadInput}
	}
	switch req.String("op") {
	case "ping":
		return client.Ack{OK: true, TraceID: r.o.TraceID}
	case "append":
		if tr := req.String("trace_id"); tr != r.o.TraceID {
			return client.Ack{Error: fmt.Sprintf("this recorder records trace %s, not %q", r.o.TraceID, tr), Code: exit.BadInput}
		}
		rv, _ := req.Get("receipt")
		rc, ok := rv.(*canon.Object)
		if !ok {
			return client.Ack{Error: "append needs a receipt object", Code: exit.BadInput}
		}
		return r.Append(rc)
	}
	return client.Ack{Error: fmt.Sprintf("unknown op %q (want append or ping)", req.String("op")), Code: exit.BadInput}
}

// stamps are the fields the store sets; a sender never does.
var stamps = []string{"_trace_id", "_stored_at", "_store_seq"}

// Append stores one receipt sent to the recorder (stamped, fsynced) and
// seals it before it returns. A receipt without seq gets one past the
// trace's highest.
func (r *Recorder) Append(rc *receipt.Receipt) client.Ack {
	if !receipt.TypeAllowed(rc.String("type")) {
		return client.Ack{Error: fmt.Sprintf("receipt type %q cannot go into a proof pack (allowed: %s)", rc.String("type"), receipt.AllowedForms()), Code: exit.BadInput}
	}
	for _, k := range stamps {
		if _, ok := rc.Get(k); ok {
			return client.Ack{Error: k + " is set by the store, not by the sender", Code: exit.BadInput}
		}
	}
	if id, ok := rc.Get("receipt_id"); !ok || id == "" {
		rc.Set("receipt_id", receipt.NewID("r_", 12))
	} else if s, isStr := id.(string); !isStr || s == "" {
		return client.Ack{Error: "receipt_id must be a non-empty string", Code: exit.BadInput}
	}
	if _, ok := rc.Get("timestamp"); !ok {
		rc.Set("timestamp", receipt.Now())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return client.Ack{Error: "the run is over; the recorder no longer accepts receipts", Code: exit.HonestFail}
	}
	if r.err != nil {
		return client.Ack{Error: "the recorder failed earlier: " + r.err.Error(), Code: exit.HonestFail}
	}
	// What other writers appended before this receipt is sealed by the
	// look after the append, in the file's order.
	if _, ok := rc.Get("seq"); !ok {
		setAfter(rc, "seq", r.nextSeq, "schema_version")
	}
	if err := r.o.Store.Append(r.o.TraceID, rc); err != nil {
		return client.Ack{Error: err.Error(), Code: exit.Code(err)}
	}
	line, err := store.Line(rc)
	if err != nil {
		return client.Ack{Error: err.Error(), Code: exit.HonestFail}
	}
	h := sha256.Sum256(line)
	r.pending[h] = true
	r.tailLocked()
	// Tracked after the look: lines other writers appended before ours
	// carry lower _store_seq and must not look backdated.
	if n, ok := intOf(rc, "_store_seq"); ok && n > r.lastSeq {
		r.lastSeq = n
	}
	if n, ok := intOf(rc, "seq"); ok && n >= r.nextSeq {
		r.nextSeq = n + 1
	}
	if r.pending[h] {
		// Our line is not in the file as we wrote it: changed between the
		// write and the read. Seal what we wrote and say so.
		delete(r.pending, h)
		r.alter(seal.Alteration{Kind: "changed", Detail: "a receipt sent to the recorder was not in the store as written when read back", Sealed: fmt.Sprintf("%x", h)})
		if _, err := r.w.Seal(line); err != nil {
			r.fail(err)
			return client.Ack{Error: err.Error(), Code: exit.HonestFail}
		}
	}
	if r.err != nil {
		return client.Ack{Error: r.err.Error(), Code: exit.HonestFail}
	}
	out, _ := canon.Options{KeepOrder: true}.Marshal(rc)
	seq, _ := strconv.ParseInt(fmt.Sprint(mustGet(rc, "_store_seq")), 10, 64)
	return client.Ack{OK: true, ReceiptID: rc.String("receipt_id"), StoreSeq: seq, Sealed: r.w.Size(), Receipt: out}
}

// Emit builds a receipt as store.Emit does and records it through the
// recorder (stored and sealed), so an in-process capture (the recording
// gateway of assay run) can use the recorder as its sink.
func (r *Recorder) Emit(traceID, typ string, data *canon.Object, opt store.EmitOptions) (*receipt.Receipt, error) {
	if traceID != r.o.TraceID {
		return nil, fmt.Errorf("recorder: trace %s is not this recorder's (%s)", traceID, r.o.TraceID)
	}
	rc := store.NewReceipt(typ, data, opt, -1)
	if ack := r.Append(rc); !ack.OK {
		return nil, exit.New(max(ack.Code, exit.HonestFail), "", "the recorder refused the receipt: %s", ack.Error)
	}
	return rc, nil
}

func mustGet(o *canon.Object, k string) any {
	v, _ := o.Get(k)
	return v
}

// Sync seals what the trace file gained since the last look, now.
func (r *Recorder) Sync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.finished {
		r.tailLocked()
	}
}

// follow tails the trace file until Close.
func (r *Recorder) follow() {
	defer close(r.done)
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			if !r.finished {
				r.checkReplaced()
				r.tailLocked()
				if err := r.w.Tick(); err != nil {
					r.fail(err)
				}
			}
			r.mu.Unlock()
		}
	}
}

func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *Recorder) alter(a seal.Alteration) {
	if err := r.w.Alter(a); err != nil {
		r.fail(err)
	}
}

// tailLocked seals the complete lines appended to the trace file since the
// last look (r.mu held). The file stays open between looks; the follower
// reopens it when the path names another file (replaced).
func (r *Recorder) tailLocked() {
	if r.f == nil {
		f, err := os.Open(r.path)
		if err != nil {
			if r.readTo > 0 {
				r.alter(seal.Alteration{Kind: "truncated", Detail: "the trace file was removed after receipts were sealed"})
				r.offset, r.readTo, r.carry = 0, 0, r.carry[:0]
			}
			return
		}
		r.f = f
	}
	st, err := r.f.Stat()
	if err != nil {
		return
	}
	size := st.Size()
	if size < r.readTo {
		r.alter(seal.Alteration{Kind: "truncated", Detail: fmt.Sprintf("the trace file shrank from %d to %d bytes after its receipts were sealed", r.readTo, size)})
		// Keep reading from the new end: what was sealed stays sealed.
		r.offset, r.readTo, r.carry = size, size, r.carry[:0]
		return
	}
	if r.chunk == nil {
		r.chunk = make([]byte, 64<<10)
	}
	for r.readTo < size {
		k, err := r.f.ReadAt(r.chunk[:min(int64(len(r.chunk)), size-r.readTo)], r.readTo)
		if k <= 0 {
			if err != nil {
				return
			}
			continue
		}
		r.readTo += int64(k)
		data := r.chunk[:k]
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if len(r.carry)+len(data) > maxLine {
					// A line longer than any receipt: never sealed; the
					// end-of-run comparison names it.
					r.carry = r.carry[:0]
					r.offset = r.readTo
					break
				}
				r.carry = append(r.carry, data...)
				break
			}
			line := data[:i]
			if len(r.carry) > 0 {
				r.carry = append(r.carry, line...)
				line = r.carry
			}
			r.offset += int64(len(line)) + 1
			if len(bytes.TrimSpace(line)) > 0 {
				r.sealLine(line)
			}
			r.carry = r.carry[:0]
			data = data[i+1:]
		}
	}
}

// maxLine bounds a trace line the recorder reads (as the store does).
const maxLine = 64 << 20

// checkReplaced reopens the trace file when its path now names another
// file (r.mu held): the new file is read from the same offset, and the
// end-of-run comparison tells what changed.
func (r *Recorder) checkReplaced() {
	if r.f == nil {
		return
	}
	cur, err1 := r.f.Stat()
	now, err2 := os.Stat(r.path)
	if err1 == nil && err2 == nil && os.SameFile(cur, now) {
		return
	}
	r.f.Close()
	r.f = nil
}

// sealLine seals one complete line read from the file, checking a line
// that another writer appended for signs of backdating.
func (r *Recorder) sealLine(line []byte) {
	h := sha256.Sum256(line)
	if r.pending[h] {
		// Our own line, as we wrote it: Append tracks its seq numbers.
		delete(r.pending, h)
		if _, err := r.w.Seal(line); err != nil {
			r.fail(err)
		}
		return
	}
	v, derr := canon.Decode(line)
	obj, isObj := v.(*canon.Object)
	if derr != nil || !isObj {
		// Not a receipt: left unsealed; the end-of-run comparison names it.
		return
	}
	if r.backdated(obj) {
		// Recorded as an alteration, not sealed: the pack never carries
		// it, and the store's copy shows up as inserted at the end.
		return
	}
	if n, ok := intOf(obj, "_store_seq"); ok && n > r.lastSeq {
		r.lastSeq = n
	}
	if n, ok := intOf(obj, "seq"); ok && n >= r.nextSeq {
		r.nextSeq = n + 1
	}
	if _, err := r.w.Seal(line); err != nil {
		r.fail(err)
	}
}

// backdated flags (and records) a line appended straight to the file that
// claims to be older than it is: a store stamp (_stored_at) earlier than
// when it appeared, or a _store_seq that goes back. Honest writers stamp
// under the store lock, so neither happens to them.
func (r *Recorder) backdated(obj *canon.Object) bool {
	now := r.o.Now()
	id := obj.String("receipt_id")
	hash := ""
	if line, err := store.Line(obj); err == nil {
		hash = fmt.Sprintf("%x", sha256.Sum256(line))
	}
	if n, ok := intOf(obj, "_store_seq"); ok && n <= r.lastSeq {
		r.alter(seal.Alteration{Kind: "backdated", Found: hash, Detail: fmt.Sprintf("receipt %s appended to the store with _store_seq %d, not above the %d already sealed; not sealed", id, n, r.lastSeq)})
		return true
	}
	if t, ok := receipt.ParseTimestamp(obj.String("_stored_at")); ok && t.Before(now.Add(-r.o.Tolerance)) {
		r.alter(seal.Alteration{Kind: "backdated", Found: hash, Detail: fmt.Sprintf("receipt %s appended to the store at %s claims it was stored at %s; not sealed", id, receipt.Timestamp(now), obj.String("_stored_at"))})
		return true
	}
	return false
	// The receipt's own timestamp is what its emitter claims (fixtures and
	// replays carry old ones); the seal records when it really arrived.
}

func intOf(o *canon.Object, k string) (int64, bool) {
	v, ok := o.Get(k)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case canon.Number:
		x, err := strconv.ParseInt(string(n), 10, 64)
		return x, err == nil
	}
	return 0, false
}

// Close stops accepting receipts, seals what the file gained last, writes
// the final checkpoint and stops following. It returns the first error the
// recorder met (its seal cannot be trusted beyond it).
func (r *Recorder) Close() error {
	if r.ln != nil {
		r.ln.Close()
	}
	r.mu.Lock()
	if !r.finished {
		r.checkReplaced()
		r.tailLocked()
		r.finished = true
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	// Connections still open are cut: the run is over.
	r.connMu.Lock()
	for c := range r.open {
		c.Close()
	}
	r.connMu.Unlock()
	r.conns.Wait()
	if _, err := r.w.Close(); err != nil {
		r.fail(err)
	}
	if r.sockDir != "" {
		os.RemoveAll(r.sockDir)
	}
	return r.err
}

// setAfter adds k right after member prev (the reference's base-field
// order: receipt_id, type, timestamp, schema_version, seq), or at the end
// when there is no prev.
func setAfter(o *canon.Object, k string, v any, prev string) {
	for i, m := range o.Members {
		if m.Key == prev {
			o.Members = append(o.Members[:i+1], append([]canon.Member{{Key: k, Value: v}}, o.Members[i+1:]...)...)
			return
		}
	}
	o.Set(k, v)
}
