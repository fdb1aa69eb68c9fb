package pack

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/version"
)

// DefaultSortMemory is the budget of BuildTrace's sort keys before they
// spill to temporary files.
const DefaultSortMemory = 16 << 20

// ErrNoReceipts is BuildTrace's error for a trace without receipts when
// Options.RequireReceipts is set; nothing has been published.
var ErrNoReceipts = errors.New("the trace holds no receipts")

// maxLine is the longest trace line read (as store.ReadFile allows).
const maxLine = 64 << 20

// BuildTrace builds the same pack as Build over the receipts of a JSONL
// trace file, without holding them: one pass reads each line, checks and
// canonicalizes the receipt, writes its pack line into the staging
// directory, and keeps only a sort key, the line's offsets and a 64-bit hash
// of its receipt_id (for duplicate detection). When the trace is already in
// pack order (the store writes it so) that pass also hashes the lines,
// builds the Merkle root (O(log n) state) and evaluates the claims, and the
// pack is done. Otherwise the keys are sorted (spilling to temporary files
// past opt.SortMemory) and a second pass streams the lines out in order.
//
// Lines that are not JSON objects are left out and returned as problems,
// as store.ReadFile reports them. opt.Receipts must be nil.
func BuildTrace(opt Options, tracePath string) (*Result, []store.LineProblem, error) {
	if opt.Receipts != nil {
		return nil, nil, errors.New("BuildTrace: Options.Receipts must be nil")
	}
	now, vv, err := checkOptions(&opt)
	if err != nil {
		return nil, nil, err
	}
	if _, err := claimSet(opt.Claims); err != nil {
		return nil, nil, err
	}
	in, err := os.Open(tracePath)
	if err != nil {
		return nil, nil, exit.Wrap(exit.BadInput, err, "")
	}
	defer in.Close()
	st, err := openStage(opt.OutDir)
	if err != nil {
		return nil, nil, err
	}
	defer st.close()
	b := &traceBuild{opt: opt, tracePath: tracePath, stage: st}
	bd, probs, err := b.run(in, now)
	if err != nil {
		return nil, probs, err
	}
	res, err := finish(opt, now, vv, bd, st)
	if err != nil {
		return nil, probs, err
	}
	return res, probs, nil
}

// checkOptions validates the options shared by Build and BuildTrace and
// fills the defaults.
func checkOptions(opt *Options) (time.Time, string, error) {
	if opt.Signer == nil {
		return time.Time{}, "", exit.Bad("load or generate a key first", "no signer given")
	}
	if opt.RunID == "" {
		return time.Time{}, "", exit.Bad("", "no run id given")
	}
	if opt.Mode == "" {
		opt.Mode = "shadow"
	}
	if err := ValidMode(opt.Mode); err != nil {
		return time.Time{}, "", err
	}
	if opt.CIBinding != nil {
		if err := opt.CIBinding.validate(); err != nil {
			return time.Time{}, "", err
		}
	}
	if opt.OutDir == "" {
		return time.Time{}, "", exit.Bad("", "no output directory given")
	}
	if fsutil.Exists(opt.OutDir) {
		return time.Time{}, "", exit.Bad("choose a new -o directory or remove the old pack", "output directory already exists: %s", opt.OutDir)
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	vv := opt.VerifierVersion
	if vv == "" {
		vv = version.Version
	}
	return now, vv, nil
}

// sink consumes pack lines in pack order: it writes them, hashes the file,
// appends Merkle leaves and feeds the claims.
type sink struct {
	w    *bufio.Writer
	h    hash.Hash
	size int64
	leaf *merkle.LeafHasher
	lh   [32]byte
	tree merkle.Stack
	eval *claims.Evaluator
	n    int
}

func newSink(w io.Writer, opt Options) *sink {
	s := &sink{w: bufio.NewWriterSize(w, 1<<20), h: sha256.New(), leaf: merkle.NewLeafHasher()}
	if opt.Claims != nil {
		s.eval = claims.NewEvaluator(opt.Claims, opt.ClaimEnv)
	}
	return s
}

var newline = []byte{'\n'}

func (s *sink) add(line []byte, r *receipt.Receipt) {
	s.w.Write(line)
	s.w.Write(newline)
	s.h.Write(line)
	s.h.Write(newline)
	s.size += int64(len(line)) + 1
	s.leaf.Sum(&s.lh, line)
	s.tree.AddLeafHash(&s.lh)
	if s.eval != nil {
		s.eval.Add(r)
	}
	s.n++
}

// pipe runs a sink on its own goroutine, fed in batches, so parsing and
// canonicalizing overlap hashing and writing.
type pipe struct {
	s      *sink
	cur    *batch
	full   chan *batch
	free   chan *batch
	done   chan struct{}
	claims bool // receipts are still wanted by the claims
}

type batch struct {
	buf        []byte
	ends       []int
	recs       []*receipt.Receipt
	stopClaims bool
}

const batchBytes = 256 << 10

func newPipe(s *sink) *pipe {
	p := &pipe{s: s, full: make(chan *batch, 3), free: make(chan *batch, 4), done: make(chan struct{}), claims: s.eval != nil}
	for i := 0; i < 4; i++ {
		p.free <- &batch{buf: make([]byte, 0, batchBytes+64<<10)}
	}
	p.cur = <-p.free
	go p.run()
	return p
}

func (p *pipe) run() {
	defer close(p.done)
	for b := range p.full {
		start := 0
		for i, end := range b.ends {
			p.s.add(b.buf[start:end], b.recs[i])
			start = end
		}
		if b.stopClaims {
			p.s.eval = nil
		}
		clear(b.recs)
		b.buf, b.ends, b.recs, b.stopClaims = b.buf[:0], b.ends[:0], b.recs[:0], false
		p.free <- b
	}
}

// add queues a line (copied) and its receipt (nil when no claim reads it).
func (p *pipe) add(line []byte, rec *receipt.Receipt) {
	b := p.cur
	b.buf = append(b.buf, line...)
	b.ends = append(b.ends, len(b.buf))
	b.recs = append(b.recs, rec)
	if len(b.buf) >= batchBytes {
		p.flush()
	}
}

func (p *pipe) flush() {
	p.full <- p.cur
	p.cur = <-p.free
}

// stopClaims stops feeding the claims after the lines queued so far.
func (p *pipe) stopClaims() {
	p.claims = false
	p.cur.stopClaims = true
	p.flush()
}

// close waits for every queued line and returns the sink.
func (p *pipe) close() *sink {
	p.full <- p.cur
	close(p.full)
	<-p.done
	return p.s
}

// traceBuild is one BuildTrace run.
type traceBuild struct {
	opt       Options
	tracePath string
	stage     *stage
}

// Sort key records: owner flag (1 byte: 0 no owner, 1 the run), seq as an
// order-preserving uint64, the receipt_id, then the pack line's offset and
// length in the staging file and the trace line's offset and length.
const keyTail = 8 + 4 + 8 + 4

func keyCmp(a, b []byte) int {
	if c := bytes.Compare(a[:9], b[:9]); c != 0 {
		return c
	}
	if c := bytes.Compare(a[9:len(a)-keyTail], b[9:len(b)-keyTail]); c != 0 {
		return c
	}
	// Equal keys keep trace order, as Build's stable sort does.
	return bytes.Compare(a[len(a)-keyTail:len(a)-keyTail+8], b[len(b)-keyTail:len(b)-keyTail+8])
}

// seqBits maps a float64 to a uint64 with the same order (-0 as 0).
func seqBits(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	u := math.Float64bits(f)
	if u>>63 == 1 {
		return ^u
	}
	return u | 1<<63
}

func appendKey(dst []byte, info recInfo, lineOff int64, lineLen int, srcOff int64, srcLen int) []byte {
	flag := byte(0)
	if info.owned {
		flag = 1
	}
	dst = append(dst, flag)
	dst = binary.BigEndian.AppendUint64(dst, seqBits(info.seq))
	dst = append(dst, info.id...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(lineOff))
	dst = binary.BigEndian.AppendUint32(dst, uint32(lineLen))
	dst = binary.BigEndian.AppendUint64(dst, uint64(srcOff))
	return binary.BigEndian.AppendUint32(dst, uint32(srcLen))
}

func keyTailOf(k []byte) (lineOff int64, lineLen int, srcOff int64, srcLen int) {
	t := k[len(k)-keyTail:]
	return int64(binary.BigEndian.Uint64(t)), int(binary.BigEndian.Uint32(t[8:])),
		int64(binary.BigEndian.Uint64(t[12:])), int(binary.BigEndian.Uint32(t[20:]))
}

func keyID(k []byte) string { return string(k[9 : len(k)-keyTail]) }

func (b *traceBuild) run(in *os.File, now time.Time) (body, []store.LineProblem, error) {
	opt := b.opt
	budget := opt.SortMemory
	if budget <= 0 {
		budget = DefaultSortMemory
	}
	keys := newSorter(keyCmp, budget, b.stage.path)
	defer keys.close()

	out, err := b.stage.dir.OpenFile(FileReceipts, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return body{}, nil, fmt.Errorf("write %s: %w", FileReceipts, err)
	}
	defer func() {
		if out != nil {
			out.Close()
		}
	}()
	first := newPipe(newSink(out, opt))
	defer func() {
		if first != nil {
			first.close()
		}
	}()

	var (
		probs      []store.LineProblem
		hashes     []uint64
		seed       = maphash.MakeSeed()
		integrity  = "PASS"
		start, end string
		prevKey    []byte
		key        []byte
		inOrder    = true
		last       *receipt.Receipt
		lastText   []byte // the last receipt's trace line, for the head hash
		liner      fastLiner
		lineNo     int
		srcOff     int64
		lineOff    int64
		i          int
	)
	r := bufio.NewReaderSize(in, 1<<20)
	var long []byte
	for {
		raw, rerr := r.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			long = append(long, raw...)
			if len(long) > maxLine {
				return body{}, probs, exit.Bad("a receipt line is at most 64 MiB", "read %s: line %d is longer than 64 MiB", b.tracePath, lineNo+1)
			}
			continue
		}
		if long != nil {
			raw = append(long, raw...)
			long = nil
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return body{}, probs, fmt.Errorf("read %s: %w", b.tracePath, rerr)
		}
		if len(raw) == 0 && rerr != nil {
			break
		}
		lineNo++
		thisOff := srcOff
		srcOff += int64(len(raw))
		text := bytes.TrimSpace(raw)
		if len(text) > 0 {
			var (
				line []byte
				info recInfo
				rec  *receipt.Receipt
				err  error
			)
			fl, fi, fast := liner.line(text)
			if fast {
				if err := liner.checkFast(opt.RunID, i, text, fi); err != nil {
					return body{}, probs, err
				}
				line, info = fl, fi
				if first.claims { // claims read the receipt as the trace holds it
					v, _ := canon.Decode(text)
					rec = v.(*canon.Object)
				}
			} else {
				v, derr := canon.Decode(text)
				obj, isObj := v.(*canon.Object)
				switch {
				case derr != nil:
					probs = append(probs, store.LineProblem{Line: lineNo, Err: derr.Error()})
				case !isObj:
					probs = append(probs, store.LineProblem{Line: lineNo, Err: "not a JSON object"})
				}
				if derr != nil || !isObj {
					if rerr != nil {
						break
					}
					continue
				}
				rec = obj
				if err := checkOne(opt.RunID, i, rec); err != nil {
					return body{}, probs, err
				}
				line, err = receipt.Line(rec)
				if err != nil {
					return body{}, probs, exit.Bad("receipt keys must be ASCII and values finite", "receipt %d (%s) cannot be canonicalized: %v", i, rec.String("receipt_id"), err)
				}
				info = infoOf(rec)
			}
			id, ts := info.id, info.ts
			if id == "" || ts == "" {
				integrity = "FAIL"
			} else if _, ok := receipt.ParseTimestamp(ts); !ok {
				integrity = "FAIL"
			}
			hashes = append(hashes, maphash.String(seed, id))
			if ts == "" {
				ts = info.storedAt
			}
			if ts != "" {
				if start == "" || ts < start {
					start = ts
				}
				if end == "" || ts > end {
					end = ts
				}
			}
			key = appendKey(key[:0], info, lineOff, len(line), thisOff, len(raw))
			if inOrder && prevKey != nil && keyCmp(prevKey, key) > 0 {
				inOrder = false
				first.stopClaims() // the second pass evaluates
			}
			prevKey = append(prevKey[:0], key...)
			if err := keys.add(key); err != nil {
				return body{}, probs, err
			}
			first.add(line, rec)
			lineOff += int64(len(line)) + 1
			lastText = append(lastText[:0], text...)
			i++
		}
		if rerr != nil {
			break
		}
	}
	firstSink := first.close()
	first = nil
	if err := firstSink.w.Flush(); err != nil {
		return body{}, probs, fmt.Errorf("write %s: %w", FileReceipts, err)
	}

	dup, err := duplicates(hashes, seed, keys)
	if err != nil {
		return body{}, probs, err
	}
	if dup {
		integrity = "FAIL"
	}
	hashes = nil

	if i == 0 && opt.RequireReceipts {
		return body{}, probs, ErrNoReceipts
	}
	bd := body{n: i, integrity: integrity, head: receipt.EmptyHeadHash}
	bd.start, bd.end = normRange(start, end, now)
	final := firstSink
	if inOrder && lastText != nil {
		v, err := canon.Decode(lastText)
		if err != nil {
			return body{}, probs, fmt.Errorf("re-read the last receipt: %w", err)
		}
		last = v.(*canon.Object)
	}
	if !inOrder {
		// The staging file holds the lines in trace order: it becomes the
		// source of a second pass that writes them in pack order.
		unsorted := FileReceipts + ".unsorted"
		if err := b.stage.dir.Rename(FileReceipts, unsorted); err != nil {
			return body{}, probs, err
		}
		defer b.stage.dir.Remove(unsorted)
		src := out
		out = nil
		defer src.Close()
		dst, err := b.stage.dir.OpenFile(FileReceipts, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return body{}, probs, fmt.Errorf("write %s: %w", FileReceipts, err)
		}
		out = dst
		second := newPipe(newSink(dst, opt))
		lines := &seekReader{f: src}
		trace := &seekReader{f: in}
		k := 0
		err = keys.each(func(key []byte) error {
			lo, ll, so, sl := keyTailOf(key)
			line, err := lines.at(lo, ll)
			if err != nil {
				return err
			}
			var rec *receipt.Receipt
			if second.claims || k == i-1 {
				// Claims read the receipt as the trace holds it (the pack
				// line is its v0 projection); so does the head hash.
				raw, err := trace.at(so, sl)
				if err != nil {
					return err
				}
				v, err := canon.Decode(bytes.TrimSpace(raw))
				if err != nil {
					return fmt.Errorf("re-read %s: %w", b.tracePath, err)
				}
				rec = v.(*canon.Object)
			}
			second.add(line, rec)
			k++
			if k == i {
				last = rec
			}
			return nil
		})
		final = second.close()
		if err != nil {
			return body{}, probs, err
		}
		if err := final.w.Flush(); err != nil {
			return body{}, probs, fmt.Errorf("write %s: %w", FileReceipts, err)
		}
	}
	if err := out.Sync(); err != nil {
		return body{}, probs, fmt.Errorf("write %s: %w", FileReceipts, err)
	}
	if last != nil {
		if bd.head, err = receipt.Digest(last); err != nil {
			return body{}, probs, err
		}
	}
	bd.jsonlHash = hex.EncodeToString(final.h.Sum(nil))
	bd.jsonlSize = final.size
	bd.merkleRoot = final.tree.RootHex()
	bd.treeSize = final.tree.Size()
	if final.eval != nil {
		if bd.verification, err = final.eval.Finish(PolicyHash, SuiteHash); err != nil {
			return body{}, probs, fmt.Errorf("evaluate claims: %w", err)
		}
	} else if opt.Claims != nil {
		// No receipts were fed (an empty trace).
		if bd.verification, err = claims.NewEvaluator(opt.Claims, opt.ClaimEnv).Finish(PolicyHash, SuiteHash); err != nil {
			return body{}, probs, fmt.Errorf("evaluate claims: %w", err)
		}
	}
	return bd, probs, nil
}

// duplicates reports whether two receipts share a receipt_id: equal 64-bit
// hashes are confirmed on the ids themselves.
func duplicates(hashes []uint64, seed maphash.Seed, keys *sorter) (bool, error) {
	slices.Sort(hashes)
	collided := map[uint64]bool{}
	for j := 1; j < len(hashes); j++ {
		if hashes[j] == hashes[j-1] {
			collided[hashes[j]] = true
		}
	}
	if len(collided) == 0 {
		return false, nil
	}
	// Rare (a real duplicate, or a 64-bit collision): the ids behind the
	// colliding hashes are few; count them exactly.
	seen := map[string]bool{}
	dup := false
	err := keys.each(func(k []byte) error {
		id := keyID(k)
		if !collided[maphash.String(seed, id)] {
			return nil
		}
		if seen[id] {
			dup = true
		}
		seen[id] = true
		return nil
	})
	return dup, err
}

// normRange is timeRange's normalisation of the min and max timestamps.
func normRange(start, end string, now time.Time) (string, string) {
	norm := func(s string) string {
		if rfc3339().MatchString(s) {
			return s
		}
		if t, ok := receipt.ParseTimestamp(s); ok {
			return receipt.Timestamp(t)
		}
		return receipt.Timestamp(now)
	}
	if start == "" {
		ts := receipt.Timestamp(now)
		return ts, ts
	}
	return norm(start), norm(end)
}

// seekReader reads records at offsets of a file, sequentially when they
// follow one another (no syscall per record), seeking only on a jump.
type seekReader struct {
	f   *os.File
	r   *bufio.Reader
	pos int64
	buf []byte
}

func (s *seekReader) at(off int64, n int) ([]byte, error) {
	if s.r == nil || off != s.pos {
		if _, err := s.f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
		if s.r == nil {
			s.r = bufio.NewReaderSize(s.f, 256<<10)
		} else {
			s.r.Reset(s.f)
		}
		s.pos = off
	}
	s.buf = slices.Grow(s.buf[:0], n)[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return nil, fmt.Errorf("re-read line at %d: %w", off, err)
	}
	s.pos += int64(n)
	return s.buf, nil
}
