// Package mcpdrain holds back a stdio MCP server's stdin EOF until the
// requests it read are answered.
//
// mcp-go's stdio server stops, and cancels the requests still in flight or
// queued for its workers, as soon as stdin reaches EOF. A client that
// writes its requests and closes stdin (`printf ... | assay-mcp`, or a
// proxy that pipelines calls) would then lose answers at random. A Drain
// sits on both streams: its reader notes every request (a method and an id)
// the server is given, its writer every response (an id, no method) the
// server writes, and EOF reaches the server only once each noted request
// is answered, ctx ends, or a time limit passes. This is the one such
// workaround; assay-mcp's stdio server and the demo MCP server both use it.
package mcpdrain

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/jsonrpc"
)

// Options bound how long EOF is held back.
type Options struct {
	// Idle delivers EOF when no response has been written for this long
	// (0: no idle limit). A call that hangs for ever then cannot keep
	// stdin open.
	Idle time.Duration
	// Max delivers EOF at the latest this long after stdin reached it
	// (0: no limit).
	Max time.Duration
}

// Drain is the server's stdin (Read) and stdout (Write). Writes are
// serialised, so each Write reaches out whole.
type Drain struct {
	ctx context.Context
	in  io.Reader
	out io.Writer
	o   Options

	wmu    sync.Mutex // serialises writes to out and outBuf
	outBuf []byte

	inBuf []byte // read side: only Read touches it (one reader)
	eof   bool

	mu      sync.Mutex
	pending map[string]int // request id -> requests not yet answered
	n       int
	changed chan struct{} // signalled on every response
}

// New wraps the server's stdin and stdout.
func New(ctx context.Context, in io.Reader, out io.Writer, o Options) *Drain {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Drain{ctx: ctx, in: in, out: out, o: o, pending: map[string]int{}, changed: make(chan struct{}, 1)}
}

// Read passes stdin through, noting each complete request line. At EOF it
// first ends an unterminated last line (so the server reads it as a
// message instead of dropping it), then waits for the answers.
func (d *Drain) Read(p []byte) (int, error) {
	if d.eof {
		d.wait()
		return 0, io.EOF
	}
	n, err := d.in.Read(p)
	if n > 0 {
		d.scan(p[:n])
	}
	if err != io.EOF {
		return n, err
	}
	d.eof = true
	if n > 0 {
		return n, nil // deliver the bytes first; EOF on the next Read
	}
	if len(bytes.TrimSpace(d.inBuf)) > 0 && len(p) > 0 {
		d.request(d.inBuf)
		d.inBuf = nil
		p[0] = '\n'
		return 1, nil
	}
	d.wait()
	return 0, io.EOF
}

// scan notes the complete lines of b; a partial line waits in inBuf. Only
// the new bytes are searched, so a long line costs O(n), not O(n²).
func (d *Drain) scan(b []byte) {
	d.inBuf = lines(d.inBuf, b, d.request)
}

// lines appends b to the partial line buf, calls note for each line b
// completes, and returns what is left of the partial line.
func lines(buf, b []byte, note func([]byte)) []byte {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(buf, b...)
		}
		line := b[:i]
		if len(buf) > 0 {
			line = append(buf, line...)
			buf = buf[:0]
		}
		note(line)
		b = b[i+1:]
	}
}

// Write passes stdout through, noting each response line.
func (d *Drain) Write(p []byte) (int, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	n, err := d.out.Write(p)
	d.outBuf = lines(d.outBuf, p[:n], d.response)
	return n, err
}

// request notes a line read from the client when it is a request. It is
// read with core/jsonrpc, the one envelope; a message it refuses is not
// counted (at worst EOF is held back for fewer requests).
func (d *Drain) request(line []byte) {
	m, err := jsonrpc.Decode(bytes.TrimSpace(line))
	if err != nil || !m.IsRequest() {
		return
	}
	if k := idKey(m.ID); k != "" {
		d.mu.Lock()
		d.pending[k]++
		d.n++
		d.mu.Unlock()
	}
}

// response notes a line written to the client when it answers a request.
func (d *Drain) response(line []byte) {
	id, ok := responseID(line)
	if !ok {
		return
	}
	k := idKey(id)
	d.mu.Lock()
	if d.pending[k] > 0 {
		d.pending[k]--
		d.n--
		if d.pending[k] == 0 {
			delete(d.pending, k)
		}
	}
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// Pending is the number of requests read and not yet answered.
func (d *Drain) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// wait returns once nothing is pending, ctx ends, or a limit passes.
func (d *Drain) wait() {
	var idle, max <-chan time.Time
	var idleT *time.Timer
	if d.o.Idle > 0 {
		idleT = time.NewTimer(d.o.Idle)
		defer idleT.Stop()
		idle = idleT.C
	}
	if d.o.Max > 0 {
		t := time.NewTimer(d.o.Max)
		defer t.Stop()
		max = t.C
	}
	for d.Pending() > 0 {
		select {
		case <-d.changed:
			if idleT != nil {
				idleT.Reset(d.o.Idle)
			}
		case <-idle:
			return
		case <-max:
			return
		case <-d.ctx.Done():
			return
		}
	}
}

// idKey normalises an id the way mcp-go round-trips it (strings stay
// strings; numbers go through float64), "" for a missing or null id.
// responseID returns the id of a response line the server wrote, reading
// no further than it must: mcp-go writes the id before the result, so a
// result (tools/list is tens of KB) is not parsed. ok is false for anything
// but a response: a server request or notification (a method), or a line
// that is not a JSON object with a result or an error.
func responseID(line []byte) (id json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	haveID, body := false, false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		switch t {
		case "method":
			return nil, false
		case "id":
			if err := dec.Decode(&id); err != nil {
				return nil, false
			}
			haveID = true
		case "result", "error":
			body = true
			if haveID {
				return id, true
			}
			fallthrough
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, false
			}
		}
	}
	return id, haveID && body
}

func idKey(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "s:" + s
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "?:" + string(raw)
}
