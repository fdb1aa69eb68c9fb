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

// DefaultMaxMessage bounds one message (16 MiB) unless the proxy is told
// otherwise (--max-message): a peer that sends more without a newline is
// broken or hostile, and the proxy must not buffer it for ever.
const DefaultMaxMessage = 16 << 20

// DefaultMaxServerMessage bounds one message from the server (64 MiB)
// unless the proxy is told otherwise (--max-server-message-bytes): results
// (a file read, a listing) are legitimately far larger than requests, and
// the server is the operator's own choice, but it is bounded all the same.
const DefaultMaxServerMessage = 64 << 20

// MaxMessage bounds what the HTTP upstream reads in one body or SSE event.
const MaxMessage = DefaultMaxServerMessage

// ErrTooLarge is returned for an HTTP body or SSE line over MaxMessage.
var ErrTooLarge = errors.New("message larger than 64 MiB")

// TooLargeError is returned by Reader.Next for a line or frame over the
// reader's limit. The reader has skipped the rest of it, so the next call
// reads the message after it.
type TooLargeError struct {
	Limit   int
	Framing Framing
	// Prefix is the start of the message (at most 64 KiB), to name what
	// it asked for.
	Prefix []byte
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("a %s message is larger than the %d-byte limit (--max-message); it was skipped", e.Framing, e.Limit)
}

// prefixKeep is how much of an oversized message is kept in TooLargeError.
const prefixKeep = 64 << 10

// Message is one message as it crossed a stream.
type Message struct {
	// Raw is the message exactly as read, framing included. Empty for
	// messages that arrived without stdio framing (the HTTP upstream);
	// the proxy frames Body for the client then.
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
	br  *bufio.Reader
	max int
}

// NewReader returns a Reader over r with the default limit.
func NewReader(r io.Reader) *Reader { return NewReaderLimit(r, DefaultMaxMessage) }

// NewReaderLimit returns a Reader over r that refuses a line or frame
// over max bytes (max <= 0: DefaultMaxMessage).
func NewReaderLimit(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next message. At the end of the stream it returns io.EOF
// (a final line without a newline is still returned first). A line or
// frame over the limit is skipped and reported as a *TooLargeError; the
// reader stays usable. The returned slices are fresh: callers may keep
// them.
func (r *Reader) Next() (Message, error) {
	line, err := readLine(r.br, r.max)
	if tl, ok := err.(*TooLargeError); ok {
		return Message{}, tl
	}
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

// readLine reads up to and including the next '\n' from br, bounded by
// max (stdio lines and SSE lines alike). A longer line is read to its end
// and dropped, and a *TooLargeError returned (keeping its first bytes).
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			if len(buf) < prefixKeep {
				buf = append(buf, chunk[:min(len(chunk), prefixKeep-len(buf))]...)
			}
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			return nil, &TooLargeError{Limit: max, Framing: NDJSON, Prefix: buf[:min(len(buf), prefixKeep)]}
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
	raw := append([]byte(nil), first...)
	for {
		h, err := readLine(r.br, prefixKeep)
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
	if n > r.max {
		// Skip the body, keeping its start, so the stream stays in step.
		prefix := make([]byte, min(n, prefixKeep))
		k, err := io.ReadFull(r.br, prefix)
		if err == nil {
			_, err = io.CopyN(io.Discard, r.br, int64(n-k))
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Message{}, fmt.Errorf("content-length body: %w", err)
		}
		return Message{}, &TooLargeError{Limit: r.max, Framing: ContentLength, Prefix: prefix[:k]}
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
