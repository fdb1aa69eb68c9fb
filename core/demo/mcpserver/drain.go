package mcpserver

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

// mcp-go's stdio server drops tool calls still queued for its workers when
// stdin reaches EOF (it cancels them and stops the workers). A client that
// pipelines calls and closes stdin would then lose answers at random, which
// would make the proxy's transcripts flaky. So Serve holds EOF back until
// every request it has passed on has been answered; hang and stalled calls
// are covered by a grace period (Listen itself then keeps the process alive
// while a handler runs).

// drainGrace is how long EOF waits without any response being written.
const drainGrace = 10 * time.Second

// pending counts the requests read but not yet answered, keyed by their
// id as mcp-go sees it (a string, or a number read as float64).
type pending struct {
	mu      sync.Mutex
	ids     map[string]int
	n       int
	changed chan struct{} // signalled on every response
}

func newPending() *pending {
	return &pending{ids: map[string]int{}, changed: make(chan struct{}, 1)}
}

// idKey normalises an id the way mcp-go round-trips it (strings stay
// strings; numbers go through float64), "" for a missing or null id.
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

// request notes a line read from the client if it is a request.
func (p *pending) request(line []byte) {
	// Read with core/jsonrpc, the one envelope; a message it refuses is
	// not counted (at worst EOF is held back for fewer requests).
	m, err := jsonrpc.Decode(bytes.TrimSpace(line))
	if err != nil || m.Method == "" {
		return
	}
	if k := idKey(m.ID); k != "" {
		p.mu.Lock()
		p.ids[k]++
		p.n++
		p.mu.Unlock()
	}
}

// response notes a line written to the client if it answers a request.
func (p *pending) response(line []byte) {
	m, err := jsonrpc.Decode(bytes.TrimSpace(line))
	if err != nil || !m.IsResponse() {
		return
	}
	k := idKey(m.ID)
	p.mu.Lock()
	if p.ids[k] > 0 {
		p.ids[k]--
		p.n--
		if p.ids[k] == 0 {
			delete(p.ids, k)
		}
	}
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// wait returns once nothing is pending, ctx ends, or no response has been
// written for drainGrace.
func (p *pending) wait(ctx context.Context) {
	t := time.NewTimer(drainGrace)
	defer t.Stop()
	for {
		p.mu.Lock()
		n := p.n
		p.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-p.changed:
			t.Reset(drainGrace)
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// drainReader is the server's stdin: it notes each complete request line
// and delivers EOF only once those requests are answered.
type drainReader struct {
	r       io.Reader
	p       *pending
	ctx     context.Context
	partial []byte
	eof     bool
}

func (d *drainReader) Read(b []byte) (int, error) {
	if d.eof {
		d.p.wait(d.ctx)
		return 0, io.EOF
	}
	n, err := d.r.Read(b)
	if n > 0 {
		d.scan(b[:n])
	}
	if err == io.EOF {
		d.eof = true
		if n > 0 {
			return n, nil // deliver the bytes first; EOF on the next Read
		}
		d.p.wait(d.ctx)
	}
	return n, err
}

// scan notes the complete lines in b. An unterminated last line is never
// noted: mcp-go does not process a line cut off by EOF either.
func (d *drainReader) scan(b []byte) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			d.partial = append(d.partial, b...)
			return
		}
		line := b[:i]
		if len(d.partial) > 0 {
			line = append(d.partial, line...)
			d.partial = d.partial[:0]
		}
		d.p.request(line)
		b = b[i+1:]
	}
}
