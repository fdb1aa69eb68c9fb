package verify

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/receipt"
)

type badType struct {
	index   int
	id, typ string
}

// receiptScan is what one streaming pass over receipt_pack.jsonl learns:
// the whole-file hash, the receipts' integrity, the last receipt (for the
// head hash), the Merkle root over the lines, disallowed types and callsite
// ids. Memory stays bounded: the file is read in a few line-aligned chunks
// at a time and duplicate ids are found through 64-bit hashes, confirmed
// exactly on a collision.
type receiptScan struct {
	missing      bool
	readErr      error
	fileHash     string
	size         int64
	count        int
	parseErrLine int // first line that is not JSON (1-based), 0 if none
	blankLine    int // first whitespace-only line (1-based), 0 if none
	integrityOK  bool
	last         *receipt.Receipt
	tree         *merkle.Stack
	// treeComplete is false when the Merkle leaves stopped (a blank line
	// or a parse error): the tree is then not the pack's.
	treeComplete bool
	// badTypes are the first MaxErrors receipts with a disallowed type;
	// badTypeCount counts them all.
	badTypes     []badType
	badTypeCount int
	callsites    []string
	// noCallsite counts model_call receipts without a callsite_id;
	// gwNoCallsite those of them the gateway recorded.
	noCallsite, gwNoCallsite int
	// callsitesCapped: more distinct callsite ids than the scan keeps.
	callsitesCapped bool
	types           map[string]int
	// sessions is what the session_metadata receipts say, per session.
	sessions sessionEnds
}

// Bounds on what one scan keeps, whatever the pack holds: memory stays
// O(one line) however many receipts are bad.
const (
	// maxTypes distinct type names are counted by name; the rest under
	// otherTypes.
	maxTypes   = 1000
	otherTypes = "(other types)"
	// maxCallsites distinct callsite ids, of maxCallsiteBytes in all, are
	// kept for the coverage gate.
	maxCallsites     = 100_000
	maxCallsiteBytes = 8 << 20
	// maxCollided hash collisions are kept for exact confirmation; one
	// true duplicate is enough.
	maxCollided = 1024
)

const (
	// chunkSize is the read size; a chunk holds the whole lines of one read
	// (a longer line grows its chunk).
	chunkSize = 1 << 18
	// maxChunks bounds the chunks in flight, and so memory.
	maxChunks = 12
)

var seed = maphash.MakeSeed()

var chunkPool = sync.Pool{New: func() any {
	return &chunk{done: make(chan struct{}, 1)}
}}

// chunk is a line-aligned run of the file on its way through the pipeline:
// the reader fills it and adds it to the file hash in order, a worker
// validates its lines and hashes its Merkle leaves, the merger folds its
// result into the scan in order and hands it back to the reader.
type chunk struct {
	buf  []byte
	data []byte
	seq  int64
	res  chunkResult
	done chan struct{}
}

// scanReceipts reads f once. The reading goroutine hashes the file in
// order while workers check line-aligned chunks in parallel; results are
// merged in file order, so every figure is exactly what a sequential pass
// gives. At most maxChunks chunks are in flight.
func scanReceipts(f *os.File) receiptScan {
	s := receiptScan{integrityOK: true, treeComplete: true, tree: &merkle.Stack{}, types: map[string]int{}}
	// stop is the first chunk (in file order) with a parse error: later
	// chunks are only hashed, never split into lines.
	var stop atomic.Int64
	stop.Store(math.MaxInt64)

	workers := max(1, runtime.GOMAXPROCS(0))
	// Small files get small buffers; chunks (and their buffers) are pooled
	// across calls.
	bufSize := chunkSize
	m := merger{s: &s, callsites: map[string]bool{}}
	if st, err := f.Stat(); err == nil {
		if st.Size() < chunkSize {
			bufSize = max(4096, int(st.Size())+1)
		}
		// Receipt lines run to hundreds of bytes; a table sized for one
		// id per 256 bytes (up to 1M ids, 16 MiB) rarely has to grow.
		m.ids.reserve(int(min(st.Size()/256, 1<<20)))
	}
	free := make(chan *chunk, maxChunks)
	for range maxChunks {
		free <- chunkPool.Get().(*chunk)
	}
	defer func() {
		for range maxChunks {
			c := <-free
			if cap(c.buf) > 4*chunkSize {
				c.buf = nil // do not keep a huge line's buffer around
			}
			c.data = nil
			chunkPool.Put(c)
		}
	}()
	workQ := make(chan *chunk, maxChunks)
	orderQ := make(chan *chunk, maxChunks)
	h := sha256.New()
	for range workers {
		go func() {
			w := newLineWorker()
			for c := range workQ {
				if c.seq > stop.Load() {
					c.res.reset()
					c.res.skipped = true
				} else {
					w.chunk(c)
					if c.res.parseErr > 0 {
						for old := stop.Load(); c.seq < old && !stop.CompareAndSwap(old, c.seq); old = stop.Load() {
						}
					}
				}
				c.done <- struct{}{}
			}
		}()
	}
	merged := make(chan struct{})
	go func() {
		for c := range orderQ {
			<-c.done
			m.merge(c)
			free <- c
		}
		close(merged)
	}()

	var carry []byte
	var readErr error
	var seq int64
	for eof := false; !eof && readErr == nil; {
		c := <-free
		c.buf = append(c.buf[:0], carry...)
		if cap(c.buf) < bufSize {
			c.buf = append(make([]byte, 0, bufSize), c.buf...)
		}
		for {
			for len(c.buf) < cap(c.buf) {
				n, err := f.Read(c.buf[len(c.buf):cap(c.buf)])
				c.buf = c.buf[:len(c.buf)+n]
				if err == io.EOF {
					eof = true
					break
				}
				if err != nil {
					readErr = err
					break
				}
			}
			if eof || readErr != nil || bytes.IndexByte(c.buf[len(carry):], '\n') >= 0 {
				break
			}
			// One line longer than the chunk: grow it and read on.
			c.buf = append(c.buf[:cap(c.buf)], 0)[:len(c.buf)]
		}
		if readErr != nil {
			free <- c
			break
		}
		c.data = c.buf
		carry = carry[:0]
		if !eof {
			i := bytes.LastIndexByte(c.buf, '\n')
			carry = append(carry, c.buf[i+1:]...)
			c.data = c.buf[:i+1]
		}
		if len(c.data) == 0 {
			free <- c
			continue
		}
		s.size += int64(len(c.data))
		c.seq = seq
		seq++
		orderQ <- c
		workQ <- c
		// The reader hashes the chunk it has just read, while it is hot in
		// its cache; workers check lines meanwhile.
		h.Write(c.data)
	}
	close(workQ)
	close(orderQ)
	<-merged
	if readErr != nil {
		return receiptScan{readErr: readErr, integrityOK: true, treeComplete: false, tree: &merkle.Stack{}, types: map[string]int{}}
	}
	s.fileHash = hex.EncodeToString(h.Sum(nil))
	if m.lastOK {
		if v, err := canon.Decode(m.last); err == nil {
			s.last, _ = v.(*canon.Object)
		}
	}
	if s.parseErrLine == 0 && s.integrityOK && len(m.ids.collided) > 0 && exactDuplicate(f, m.ids.collided) {
		s.integrityOK = false
	}
	if s.parseErrLine > 0 || s.blankLine > 0 {
		s.treeComplete = false
	}
	return s
}

// chunkResult is what a worker learns from one chunk; line numbers and
// receipt indexes are relative to the chunk.
type chunkResult struct {
	lines     int
	skipped   bool // after a parse error in an earlier chunk: not read
	blank     int  // first whitespace-only line (1-based), 0 if none
	leaves    [][32]byte
	count     int
	parseErr  int  // first invalid line in the chunk (1-based), 0 if none
	bad       bool // a receipt before parseErr fails integrity
	last      int  // 0: no receipt, 1: the last receipt is an object at data[lastStart:lastEnd], 2: it is not an object
	lastStart int
	lastEnd   int
	ids       []uint64
	typeIdx   map[string]int
	typeNames []string
	typeOK    []bool
	typeCount []int
	lastType  int // index of the previous receipt's type, -1 at start
	badTypes  []badType
	nBadTypes int
	// noCallsite counts model_call receipts without a callsite_id;
	// gwNoCallsite those of them the gateway recorded.
	noCallsite, gwNoCallsite int
	callCache                [callCacheSize]int32 // index+1 into callsites, 0 when empty
	callsites                []csRef
	sessions                 sessionEnds
	data                     []byte
}

// csRef is a callsite id found in a chunk: data[off:end] of the chunk, or
// s when it had to be decoded. A chunk may list an id more than once (the
// merger dedupes); listing ids as byte ranges keeps workers from
// allocating a string per chunk and id.
type csRef struct {
	off, end int
	s        string
}

func (c csRef) bytes(data []byte) []byte {
	if c.s != "" {
		return []byte(c.s)
	}
	return data[c.off:c.end]
}

const callCacheSize = 128

func (r *chunkResult) reset() {
	r.lines, r.count, r.parseErr, r.bad, r.last, r.lastType = 0, 0, 0, false, 0, -1
	r.skipped, r.blank, r.nBadTypes, r.noCallsite, r.gwNoCallsite = false, 0, 0, 0, 0
	r.leaves, r.ids, r.badTypes, r.callsites = r.leaves[:0], r.ids[:0], r.badTypes[:0], r.callsites[:0]
	r.sessions.reset()
	r.typeNames, r.typeOK, r.typeCount = r.typeNames[:0], r.typeOK[:0], r.typeCount[:0]
	if r.typeIdx == nil {
		r.typeIdx = map[string]int{}
	}
	clear(r.typeIdx)
	clear(r.callCache[:])
}

type lineWorker struct {
	leaf    *merkle.LeafHasher
	members []canon.ScanMember
}

func newLineWorker() *lineWorker {
	return &lineWorker{leaf: merkle.NewLeafHasher(), members: make([]canon.ScanMember, 0, 32)}
}

func (w *lineWorker) chunk(c *chunk) {
	r := &c.res
	r.reset()
	r.data = c.data
	data, off := c.data, 0
	for off < len(data) && r.parseErr == 0 {
		if data[off] == '\n' {
			// An empty line: not a receipt, and (once one is seen) no
			// Merkle tree to build; a run of them costs a byte compare each.
			r.lines++
			if r.blank == 0 {
				r.blank = r.lines
			}
			off++
			continue
		}
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i
		}
		line := data[off:end]
		r.lines++
		if r.blank == 0 {
			r.leaves = append(r.leaves, [32]byte{})
			w.leaf.Sum(&r.leaves[len(r.leaves)-1], line)
		}
		w.line(r, line, off)
		off = end + 1
	}
}

// blankAt marks the current line as the chunk's first blank one (if it is)
// and drops its Merkle leaf: no tree is built past a blank line.
func (r *chunkResult) blankAt() {
	if r.blank == 0 {
		r.blank = r.lines
		r.leaves = r.leaves[:len(r.leaves)-1]
	}
}

// field is a top-level string member as Object.String sees it: "" when
// absent or not a string.
type field struct {
	b  []byte
	at int // offset of b in the line, -1 when b is a decoded copy
}

func (f *field) set(m *canon.ScanMember, line []byte) {
	v := m.Value(line)
	switch {
	case v[0] != '"':
		f.b, f.at = nil, -1
	case !m.ValueEscaped:
		f.b, f.at = v[1:len(v)-1], int(m.ValueStart)+1
	default:
		s, _ := canon.Unquote(v) // already validated by Scan
		f.b, f.at = []byte(s), -1
	}
}

// line checks one line exactly as canon.Decode, Object.String,
// receipt.ParseTimestamp and receipt.Digest would, without building it.
func (w *lineWorker) line(r *chunkResult, line []byte, off int) {
	if len(line) > scanLimit {
		w.hugeLine(r, line, off)
		return
	}
	res, ms := canon.Scan(line, w.members)
	w.members = ms
	if !res.Valid {
		if len(bytes.TrimSpace(line)) == 0 {
			// A whitespace-only line: not a receipt (as the reference
			// skips it), and not something a pack of ours holds.
			r.blankAt()
			return
		}
		r.parseErr = r.lines
		return
	}
	idx := r.count
	r.count++
	if res.Kind != canon.KindObject {
		r.bad = true
		r.last = 2
		return
	}
	r.last, r.lastStart, r.lastEnd = 1, off, off+len(line)
	var id, typ, rtype, ts, cs field
	suspect, strippedSuspect := false, false
	for i := range ms {
		m := &ms[i]
		key := m.Key(line)
		if !m.KeyEscaped && (len(key) == 0 || len(key) > 31 || keyFilter[key[0]]>>len(key)&1 == 0) {
			// Not a key of interest (the filter knows their first bytes
			// and lengths): only its canonicalizability counts.
			if m.Suspect {
				suspect = true
			}
			continue
		}
		if m.KeyEscaped {
			k, _ := canon.UnquoteKey(key)
			key = []byte(k)
		}
		switch string(key) {
		case "receipt_id":
			id.set(m, line)
		case "type":
			typ.set(m, line)
		case "receipt_type":
			rtype.set(m, line)
		case "timestamp":
			ts.set(m, line)
		case "callsite_id":
			cs.set(m, line)
		case "signatures", "signature", "cose_signature", "receipt_hash", "anchor":
			// Dropped by the v0 projection before hashing, so a NaN here
			// is harmless; but a non-ASCII key below it is refused, as the
			// reference checks keys before it projects.
			strippedSuspect = strippedSuspect || m.Suspect
			continue
		}
		if m.Suspect {
			suspect = true
		}
	}
	t := typ.b
	if len(t) == 0 {
		t = rtype.b
	}
	if len(id.b) == 0 || len(typ.b) == 0 || len(ts.b) == 0 || !validTimestamp(ts.b) {
		r.bad = true
	}
	if (suspect || strippedSuspect) && !canonicalizes(line) {
		r.bad = true
	}
	csOff := -1
	if cs.at >= 0 {
		csOff = off + cs.at
	}
	r.record(idx, id.b, t, cs.b, csOff)
	if string(typ.b) == "session_metadata" {
		r.session(line)
	}
	// Pack lines are canonical JSON, so the gateway's mark is these bytes.
	if len(cs.b) == 0 && r.typeNames[r.lastType] == "model_call" && bytes.Contains(line, gatewayMark) {
		r.gwNoCallsite++
	}
}

// gatewayMark is how a receipt the gateway recorded says so
// (capture.SourceGateway), so coverage can say why it names no call site.
var gatewayMark = []byte(`"integration_source":"assay.gateway"`)

// scanLimit is the longest line canon.Scan takes (its offsets are int32);
// tests lower it to run hugeLine.
var scanLimit = math.MaxInt32

// hugeLine handles a line too long for canon.Scan's offsets (2 GiB) the
// way the original pass did: a full decode.
func (w *lineWorker) hugeLine(r *chunkResult, line []byte, off int) {
	v, err := canon.Decode(line)
	if err != nil {
		if len(bytes.TrimSpace(line)) > 0 {
			r.parseErr = r.lines
		} else {
			r.blankAt()
		}
		return
	}
	idx := r.count
	r.count++
	obj, ok := v.(*canon.Object)
	if !ok {
		r.bad = true
		r.last = 2
		return
	}
	r.last, r.lastStart, r.lastEnd = 1, off, off+len(line)
	id, typ, ts := obj.String("receipt_id"), obj.String("type"), obj.String("timestamp")
	t := typ
	if t == "" {
		t = obj.String("receipt_type")
	}
	if id == "" || typ == "" || ts == "" || !validTimestamp([]byte(ts)) {
		r.bad = true
	}
	if _, err := strictDigest(obj); err != nil {
		r.bad = true
	}
	r.record(idx, []byte(id), []byte(t), []byte(obj.String("callsite_id")), -1)
	if typ == "session_metadata" {
		r.session(line)
	}
	if obj.String("callsite_id") == "" && t == "model_call" && obj.String("integration_source") == "assay.gateway" {
		r.gwNoCallsite++
	}
}

// session keeps what a session_metadata receipt says (checkMCPSessions).
func (r *chunkResult) session(line []byte) {
	if m, ok := parseSessionMeta(line); ok {
		r.sessions.add(m)
	}
}

// record counts receipt idx's id hash, type and callsite (cs is
// r.data[csOff:] unless csOff is -1).
func (r *chunkResult) record(idx int, id, t, cs []byte, csOff int) {
	// Duplicate ids only matter while every receipt so far is sound: once
	// one is bad the verdict is FAIL, and ids are no longer kept.
	if !r.bad {
		r.ids = append(r.ids, maphash.Bytes(seed, id))
	}
	ti, ok := r.lastType, r.lastType >= 0 && r.typeNames[r.lastType] == string(t)
	if !ok {
		ti, ok = r.typeIdx[string(t)]
	}
	if !ok {
		name := string(t)
		ti = len(r.typeNames)
		r.typeIdx[name] = ti
		r.typeNames = append(r.typeNames, name)
		r.typeOK = append(r.typeOK, receipt.TypeAllowed(name))
		r.typeCount = append(r.typeCount, 0)
	}
	r.typeCount[ti]++
	r.lastType = ti
	if !r.typeOK[ti] {
		r.nBadTypes++
		if len(r.badTypes) < MaxErrors {
			r.badTypes = append(r.badTypes, badType{idx, string(id), r.typeNames[ti]})
		}
	}
	if len(cs) == 0 && r.typeNames[ti] == "model_call" {
		r.noCallsite++
	}
	if len(cs) > 0 {
		// A small direct-mapped cache of ids already listed by this chunk:
		// ids repeat a lot; a miss only lists one again.
		slot := &r.callCache[maphash.Bytes(seed, cs)&(callCacheSize-1)]
		if *slot == 0 || !bytes.Equal(r.callsites[*slot-1].bytes(r.data), cs) {
			ref := csRef{off: csOff, end: csOff + len(cs)}
			if csOff < 0 {
				ref.s = string(cs)
			}
			r.callsites = append(r.callsites, ref)
			*slot = int32(len(r.callsites))
		}
	}
}

// keyFilter[c] has bit n set when a key line() looks at starts with c and
// is n bytes long.
var keyFilter = func() (f [256]uint32) {
	for _, k := range []string{"receipt_id", "type", "receipt_type", "timestamp", "callsite_id",
		"signatures", "signature", "cose_signature", "receipt_hash", "anchor"} {
		f[k[0]] |= 1 << len(k)
	}
	return f
}()

// canonicalizes is the exact (slow) check for the rare line the scanner
// flags: a duplicate key may have replaced the offending value.
func canonicalizes(line []byte) bool {
	v, err := canon.Decode(line)
	if err != nil {
		return false
	}
	obj, ok := v.(*canon.Object)
	if !ok {
		return false
	}
	_, err = strictDigest(obj)
	return err == nil
}

// errNonASCIIKey is a receipt with a non-ASCII key somewhere, even under a
// key the projection strips.
var errNonASCIIKey = errors.New("receipt has a non-ASCII key")

// strictDigest is receipt.Digest after the reference's key check over the
// whole receipt: a non-ASCII key anywhere (including inside signatures,
// anchor and the other stripped members) fails it (pack-format.md §2.4;
// the homoglyph vector is "rejected before projection").
func strictDigest(obj *canon.Object) (string, error) {
	if !asciiKeys(obj) {
		return "", errNonASCIIKey
	}
	return receipt.Digest(obj)
}

func asciiKeys(v any) bool {
	switch x := v.(type) {
	case *canon.Object:
		for _, m := range x.Members {
			for i := 0; i < len(m.Key); i++ {
				if m.Key[i] >= 0x80 {
					return false
				}
			}
			if !asciiKeys(m.Value) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !asciiKeys(e) {
				return false
			}
		}
	}
	return true
}

// merger folds chunk results into the scan in file order.
type merger struct {
	s         *receiptScan
	lines     int
	ids       idSet
	callsites map[string]bool
	// callsiteBytes is the size of the ids kept.
	callsiteBytes int
	last          []byte
	lastOK        bool
}

func (m *merger) merge(c *chunk) {
	s, r := m.s, &c.res
	if s.parseErrLine > 0 || r.skipped {
		return // parsing stopped at an earlier line
	}
	if s.blankLine == 0 {
		// The tree is built only while no line was blank.
		for i := range r.leaves {
			s.tree.AddLeafHash(&r.leaves[i])
		}
	}
	base := m.lines
	m.lines += r.lines
	if s.blankLine == 0 && r.blank > 0 {
		s.blankLine = base + r.blank
	}
	if r.bad {
		s.integrityOK = false
	}
	for _, b := range r.badTypes {
		if len(s.badTypes) == MaxErrors {
			break
		}
		b.index += s.count
		s.badTypes = append(s.badTypes, b)
	}
	s.badTypeCount += r.nBadTypes
	s.noCallsite += r.noCallsite
	s.gwNoCallsite += r.gwNoCallsite
	s.sessions.fold(&r.sessions)
	s.count += r.count
	if s.integrityOK {
		for _, h := range r.ids {
			m.ids.add(h)
		}
	}
	for i, name := range r.typeNames {
		if _, ok := s.types[name]; !ok && len(s.types) >= maxTypes {
			name = otherTypes
		}
		s.types[name] += r.typeCount[i]
	}
	for _, ref := range r.callsites {
		b := ref.bytes(c.data)
		if m.callsites[string(b)] {
			continue
		}
		if len(s.callsites) >= maxCallsites || m.callsiteBytes+len(b) > maxCallsiteBytes {
			s.callsitesCapped = true
			break
		}
		id := string(b)
		m.callsites[id] = true
		m.callsiteBytes += len(b)
		s.callsites = append(s.callsites, id)
	}
	switch {
	case r.parseErr > 0:
		s.parseErrLine = base + r.parseErr
		s.integrityOK = false
		m.lastOK = false
	case r.last == 1:
		m.last = append(m.last[:0], c.data[r.lastStart:r.lastEnd]...)
		m.lastOK = true
	case r.last == 2:
		m.lastOK = false
	}
}

// exactDuplicate confirms hash collisions by comparing the ids themselves;
// it runs only when two 64-bit id hashes are equal, and streams the file
// again keeping only the ids whose hash collided.
func exactDuplicate(f *os.File, collided []uint64) bool {
	colliding := map[uint64]bool{}
	for _, h := range collided {
		colliding[h] = true
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return true
	}
	seen := map[string]bool{}
	var ms []canon.ScanMember
	br := bufio.NewReaderSize(f, 1<<16)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, line...)
			continue
		}
		if len(long) > 0 {
			line = append(long, line...)
			long = long[:0]
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		var res canon.ScanResult
		res, ms = canon.Scan(line, ms)
		if res.Valid && res.Kind == canon.KindObject {
			var id field
			for i := range ms {
				key := ms[i].Key(line)
				if ms[i].KeyEscaped {
					k, _ := canon.UnquoteKey(key)
					key = []byte(k)
				}
				if string(key) == "receipt_id" {
					id.set(&ms[i], line)
				}
			}
			if colliding[maphash.Bytes(seed, id.b)] {
				if seen[string(id.b)] {
					return true
				}
				seen[string(id.b)] = true
			}
		}
		if err != nil {
			return err != io.EOF
		}
	}
}
