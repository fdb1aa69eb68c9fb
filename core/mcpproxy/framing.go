package mcpproxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Framing is how one message is delimited on a stdio stream.
type Framing int

const (
	// NDJSON is the MCP stdio framing: one JSON-RPC message per line.
	NDJSON Framing = iota
	// ContentLength is the LSP-style framing some clients use:
	// "Content-Length: N" headers, a blank line, then exactly N bytes.
	ContentLength
)

func (f Framing) String() string {
	if f == ContentLength {
		return "content-length"
	}
	return "ndjson"
}

// MaxMessage bounds one message (64 MiB): a peer that sends more without a
// newline is broken or hostile, and the proxy must not buffer it forever.
const MaxMessage = 64 << 20

// ErrTooLarge is returned by Reader.Next for a message over MaxMessage.
var ErrTooLarge = errors.New("message larger than 64 MiB")

// Message is one message as it crossed a stream.
type Message struct {
	// Raw is the message exactly as read, framing included: what the proxy
	// forwards. Empty for messages that arrived without stdio framing (the
	// HTTP upstream); the proxy frames Body for the client then.
	Raw []byte
	// Body is the payload inside the framing (for NDJSON, the line without
	// its line ending).
	Body    []byte
	Framing Framing
	// Synthetic is non-empty when the transport made the message itself
	// (an error answer for a request the server never answered, e.g. an
	// unreachable HTTP upstream): why. The proxy forwards it, records the
	// call as an error with this detail, and marks the session incomplete.
	Synthetic string
}

// Blank reports whether the message has no content (a whitespace-only
// line): not a message, so the proxy passes it in neither direction.
func (m Message) Blank() bool { return len(bytes.TrimSpace(m.Body)) == 0 }

// Reader reads messages from a stdio stream, detecting the framing of each
// message on its own, as the reference does: a message whose first line is
// a Content-Length header is Content-Length framed, anything else is a line.
type Reader struct {
	br *bufio.Reader
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 64<<10)} }

// Next returns the next message. At the end of the stream it returns io.EOF
// (a final line without a newline is still returned first). The returned
// slices are fresh: callers may keep them.
func (r *Reader) Next() (Message, error) {
	line, err := r.readLine()
	if len(line) == 0 {
		if err == nil {
			err = io.EOF
		}
		return Message{}, err
	}
	if n, ok := contentLengthHeader(line); ok {
		return r.readContentLength(line, n)
	}
	body := bytes.TrimRight(line, "\r\n")
	return Message{Raw: line, Body: body, Framing: NDJSON}, nil
}

// readLine reads up to and including the next '\n', bounded by MaxMessage.
func (r *Reader) readLine() ([]byte, error) { return readLine(r.br) }

// readLine reads up to and including the next '\n' from br, bounded by
// MaxMessage (stdio lines and SSE lines alike).
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxMessage {
			return nil, ErrTooLarge
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		return buf, err
	}
}

// contentLengthHeader parses a "Content-Length: N" header line.
func contentLengthHeader(line []byte) (int, bool) {
	s := strings.TrimRight(string(line), "\r\n")
	name, val, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// readContentLength reads the remaining headers up to the blank line, then
// exactly n body bytes.
func (r *Reader) readContentLength(first []byte, n int) (Message, error) {
	if n > MaxMessage {
		return Message{}, ErrTooLarge
	}
	raw := append([]byte(nil), first...)
	for {
		h, err := r.readLine()
		raw = append(raw, h...)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Message{}, fmt.Errorf("content-length headers: %w", err)
		}
		if len(bytes.TrimRight(h, "\r\n")) == 0 {
			break
		}
		if len(raw) > 64<<10 {
			return Message{}, errors.New("content-length headers longer than 64 KiB")
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.br, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Message{}, fmt.Errorf("content-length body: %w", err)
	}
	raw = append(raw, body...)
	return Message{Raw: raw, Body: body, Framing: ContentLength}, nil
}

// Frame frames a JSON body for a stream using framing f.
func Frame(body []byte, f Framing) []byte {
	if f == ContentLength {
		h := "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		return append([]byte(h), body...)
	}
	out := make([]byte, 0, len(body)+1)
	out = append(out, body...)
	return append(out, '\n')
}
