// Package client talks to an assay recorder over its local socket (the path
// in ASSAY_RECORDER): it sends receipts and waits until each is stored and
// sealed. It is small on purpose: the Go middleware links it into programs.
//
// The protocol is one JSON object per line each way. A request is
// {"op":"append","trace_id":T,"receipt":{...}} (or {"op":"ping"}); the
// answer is {"ok":true,"receipt_id":...,"store_seq":N,"sealed":I} or
// {"ok":false,"error":"...","code":C}.
package client

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// EnvRecorder names the recorder's socket in a child's environment.
const EnvRecorder = "ASSAY_RECORDER"

// MaxFrame bounds one request or answer line.
const MaxFrame = 16 << 20

// Request is one line sent to the recorder.
type Request struct {
	Op      string           `json:"op"`
	TraceID string           `json:"trace_id,omitempty"`
	Receipt *receipt.Receipt // sent in canonical member order
	// Close only: the pack's mode, built-in card ids, and whether a run
	// without receipts is refused.
	Mode            string
	Cards           []string
	RequireReceipts bool
}

// Ack is the recorder's answer.
type Ack struct {
	OK        bool   `json:"ok"`
	ReceiptID string `json:"receipt_id,omitempty"`
	StoreSeq  int64  `json:"store_seq,omitempty"`
	Sealed    uint64 `json:"sealed,omitempty"` // 1-based index in the seal
	TraceID   string `json:"trace_id,omitempty"`
	Error     string `json:"error,omitempty"`
	Code      int    `json:"code,omitempty"`
	// Receipt is the stored receipt (stamps included) on success.
	Receipt json.RawMessage `json:"receipt,omitempty"`
	// PackDir and Result answer a close: where the recorder built the pack
	// and what it built (a recorder.PackResult as JSON).
	PackDir string          `json:"pack_dir,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
}

// Addr returns the socket path in ASSAY_RECORDER ("unix:" prefix allowed),
// or "" when it is not set.
func Addr(getenv func(string) string) string {
	return strings.TrimPrefix(strings.TrimSpace(getenv(EnvRecorder)), "unix:")
}

// Client is one connection to a recorder; safe for concurrent use (calls
// are serialised on the connection).
type Client struct {
	mu   sync.Mutex
	addr string
	conn net.Conn
	br   *bufio.Reader
}

// Dial connects to the recorder at addr (a socket path).
func Dial(addr string) (*Client, error) {
	c := &Client{addr: addr}
	if err := c.connect(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) connect() error {
	conn, err := net.DialTimeout("unix", c.addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("cannot reach the assay recorder at %s (ASSAY_RECORDER): %w", c.addr, err)
	}
	c.conn, c.br = conn, bufio.NewReaderSize(conn, 64<<10)
	return nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// Do sends one request and reads its answer. A recorder's refusal is an
// error carrying its exit code.
func (c *Client) Do(req Request) (*Ack, error) {
	frame := &canon.Object{}
	frame.Set("op", req.Op)
	if req.TraceID != "" {
		frame.Set("trace_id", req.TraceID)
	}
	if req.Receipt != nil {
		frame.Set("receipt", req.Receipt)
	}
	if req.Op == "close" {
		frame.Set("mode", req.Mode)
		cards := make([]any, len(req.Cards))
		for i, c := range req.Cards {
			cards[i] = c
		}
		frame.Set("cards", cards)
		frame.Set("require_receipts", fmt.Sprint(req.RequireReceipts))
	}
	// Receipts keep their member order and exact numbers on the wire.
	b, err := canon.Options{KeepOrder: true, EscapeLineSeparators: true}.Marshal(frame)
	if err != nil {
		return nil, exit.Bad("receipt keys must be ASCII and values finite", "receipt cannot be sent: %v", err)
	}
	if len(b) > MaxFrame {
		return nil, exit.Bad("keep receipts under 16 MiB", "receipt too large for the recorder (%d bytes)", len(b))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		if err := c.connect(); err != nil {
			return nil, err
		}
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		c.conn.Close()
		c.conn = nil
		return nil, fmt.Errorf("send to the assay recorder: %w", err)
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		c.conn.Close()
		c.conn = nil
		return nil, fmt.Errorf("the assay recorder did not answer (was it stopped?): %w", err)
	}
	var ack Ack
	if err := json.Unmarshal(line, &ack); err != nil {
		return nil, fmt.Errorf("the assay recorder sent a bad answer: %w", err)
	}
	if !ack.OK {
		code := ack.Code
		if code == 0 {
			code = exit.HonestFail
		}
		return &ack, exit.New(code, "", "the assay recorder refused: %s", ack.Error)
	}
	return &ack, nil
}

// Append sends a receipt (without store stamps) for traceID. The recorder
// stamps it, appends it to the store and seals it before answering; r gets
// the stamps it was stored with.
func (c *Client) Append(traceID string, r *receipt.Receipt) (*Ack, error) {
	ack, err := c.Do(Request{Op: "append", TraceID: traceID, Receipt: r})
	if err != nil {
		return ack, err
	}
	if len(ack.Receipt) > 0 {
		if v, err := canon.Decode(ack.Receipt); err == nil {
			if obj, ok := v.(*canon.Object); ok {
				*r = *obj
			}
		}
	}
	return ack, nil
}

// Emit builds a receipt as store.Emit does and sends it. seq is left to
// the recorder (one past the trace's highest) unless data carries one.
func (c *Client) Emit(traceID, typ string, data *canon.Object, opt store.EmitOptions) (*receipt.Receipt, error) {
	if !receipt.TypeAllowed(typ) {
		return nil, exit.Bad("allowed: "+receipt.AllowedForms(), "receipt type %q cannot go into a proof pack", typ)
	}
	r := store.NewReceipt(typ, data, opt, -1)
	if _, err := c.Append(traceID, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Open starts recording traceID on a long-lived recorder (assay recorder
// serve): a fresh run key, certified by the recorder's signer.
func (c *Client) Open(traceID string) error {
	_, err := c.Do(Request{Op: "open", TraceID: traceID})
	return err
}

// CloseRun ends the recording of traceID: the recorder closes the seal and
// builds the pack from it, signed by its own signer, in a directory it
// names in the answer (PackDir).
func (c *Client) CloseRun(req Request) (*Ack, error) {
	req.Op = "close"
	return c.Do(req)
}

// FromEnv dials the recorder named by ASSAY_RECORDER; nil, nil when unset.
func FromEnv() (*Client, error) {
	addr := Addr(os.Getenv)
	if addr == "" {
		return nil, nil
	}
	return Dial(addr)
}

// ErrNoRecorder is returned by callers that require a recorder.
var ErrNoRecorder = errors.New("ASSAY_RECORDER is not set")
