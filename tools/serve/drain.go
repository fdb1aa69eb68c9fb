package serve

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/jsonrpc"
)

// drain makes stdin's EOF wait for the answers: mcp-go's stdio server stops
// and cancels in-flight requests as soon as stdin closes, so a scripted
// client that writes its requests and closes stdin (`printf ... | assay-mcp`)
// could lose the last responses. The reader counts requests (id and method)
// and the writer counts responses (id, no method); at EOF the reader waits
// until every request has been answered, or maxDrain has passed.
type drain struct {
	mu        sync.Mutex
	cond      *sync.Cond
	requests  int
	responses int

	in     io.Reader
	inBuf  []byte
	out    io.Writer
	outBuf []byte
}

const maxDrain = 60 * time.Second

func newDrain(in io.Reader, out io.Writer) *drain {
	d := &drain{in: in, out: out}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// classify reads a line with core/jsonrpc, the one envelope: a request
// (a method and an id) or a response (an id, no method).
func classify(line []byte) (isRequest, isResponse bool) {
	m, err := jsonrpc.Decode(line)
	if err != nil || m.ID == nil || string(m.ID) == "null" {
		return false, false
	}
	return m.IsRequest(), m.IsResponse()
}

// Read passes stdin through, counting request lines; at EOF it waits for the
// outstanding responses.
func (d *drain) Read(p []byte) (int, error) {
	n, err := d.in.Read(p)
	if n > 0 {
		d.inBuf = append(d.inBuf, p[:n]...)
		for {
			i := bytes.IndexByte(d.inBuf, '\n')
			if i < 0 {
				break
			}
			if req, _ := classify(d.inBuf[:i]); req {
				d.mu.Lock()
				d.requests++
				d.mu.Unlock()
			}
			d.inBuf = d.inBuf[i+1:]
		}
	}
	if err == io.EOF {
		if n > 0 {
			// Let the server see the last bytes first; EOF comes next call.
			return n, nil
		}
		if len(bytes.TrimSpace(d.inBuf)) > 0 && len(p) > 0 {
			// A last request without its newline: end the line so the
			// server reads it as a message instead of dropping it at EOF.
			if req, _ := classify(d.inBuf); req {
				d.mu.Lock()
				d.requests++
				d.mu.Unlock()
			}
			d.inBuf = nil
			p[0] = '\n'
			return 1, nil
		}
		d.wait()
	}
	return n, err
}

func (d *drain) wait() {
	deadline := time.Now().Add(maxDrain)
	timer := time.AfterFunc(maxDrain, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer timer.Stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.responses < d.requests && time.Now().Before(deadline) {
		d.cond.Wait()
	}
}

// Write passes stdout through, counting response lines.
func (d *drain) Write(p []byte) (int, error) {
	n, err := d.out.Write(p)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.outBuf = append(d.outBuf, p[:n]...)
	for {
		i := bytes.IndexByte(d.outBuf, '\n')
		if i < 0 {
			break
		}
		if _, resp := classify(d.outBuf[:i]); resp {
			d.responses++
			d.cond.Broadcast()
		}
		d.outBuf = d.outBuf[i+1:]
	}
	return n, err
}
