package mcpproxy

import (
	"context"
	"sync"
)

// outbound is one thing to send to the server: a message (with the tool
// calls it carries, to fail them if it cannot be delivered), or the end of
// the client's input.
type outbound struct {
	m     Message
	calls []*call
	close bool // close the server's input (after everything queued before)
}

// sendQueue decouples reading the client from writing to the server: a
// server that stops reading its input must not stop the proxy from seeing
// the client's end of input, or its signals. It is unbounded: what a client
// sends while the server is stuck is what it would have had buffered anyway,
// and the session's end (grace, then termination) bounds the wait.
type sendQueue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []outbound
	done  bool
}

func newSendQueue() *sendQueue {
	q := &sendQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *sendQueue) push(o outbound) {
	q.mu.Lock()
	if !q.done {
		q.items = append(q.items, o)
	}
	q.mu.Unlock()
	q.cond.Signal()
}

// pop waits for the next item; ok is false once the queue is shut down.
func (q *sendQueue) pop() (o outbound, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.done {
		q.cond.Wait()
	}
	if q.done {
		return outbound{}, false
	}
	o = q.items[0]
	q.items[0] = outbound{}
	q.items = q.items[1:]
	return o, true
}

// shutdown drops what is still queued (its calls are abandoned by the
// session's end) and releases the sender.
func (q *sendQueue) shutdown() {
	q.mu.Lock()
	q.done = true
	q.items = nil
	q.mu.Unlock()
	q.cond.Broadcast()
}

// sender is the only goroutine that writes to the server: messages in the
// client's order, then the end of input.
func (p *proxy) sender(ctx context.Context) {
	for {
		o, ok := p.out.pop()
		if !ok {
			return
		}
		if o.close {
			_ = p.up.CloseSend()
			continue
		}
		if err := p.up.Send(ctx, o.m); err != nil {
			p.sendFailed(err, o.calls)
		}
	}
}
