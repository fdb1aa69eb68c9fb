package serve

// The stdio transport's check: every line is read exactly by core/jsonrpc
// before mcp-go sees it, and mcp-go receives only the re-encoding of what
// was checked. mcp-go decodes members case-insensitively, the last
// duplicate winning; without this, a client could have the server's
// receipt name one tool while another runs.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/jsonrpc"
)

// DefaultMaxMessage bounds one stdio line (16 MiB).
const DefaultMaxMessage = 16 << 20

// lockedWriter serialises whole-message writes to stdout: mcp-go writes
// each message with one Write under its own lock, the check writes its
// refusals here too.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Refusal is what the check reports for each refused tools/call, so the
// server can receipt it.
type Refusal func(id []byte, tool string, sent []byte, detail string)

// checkedInput is an io.Reader over stdin that yields, line by line, the
// re-encoding of each message core/jsonrpc accepts. A refused line is
// answered on out with a JSON-RPC error and never reaches the reader's
// consumer; a line over max bytes is skipped and answered the same way. A
// tools/call before initialize is refused too (as core/mcpproxy does),
// unless it carries a 2026-07-28-era protocol version, an era without the
// handshake.
type checkedInput struct {
	br       *bufio.Reader
	out      io.Writer
	max      int
	log      zerolog.Logger
	refused  Refusal
	initSeen bool // an initialize request passed the check
	pending  []byte
	err      error
}

func newCheckedInput(in io.Reader, out io.Writer, max int, log zerolog.Logger, refused Refusal) *checkedInput {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &checkedInput{br: bufio.NewReaderSize(in, 64<<10), out: out, max: max, log: log, refused: refused}
}

func (c *checkedInput) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		c.next()
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// next reads one line and queues its checked re-encoding, or answers it.
func (c *checkedInput) next() {
	line, tooLong, err := readLine(c.br, c.max)
	if err != nil {
		c.err = err
	}
	if tooLong {
		// line holds the start of the oversized line: a message that
		// cannot be read cannot be shown not to be a call, so it is
		// receipted as the tool its start names, else as an unnamed
		// attempt (as core/mcpproxy does).
		msg := fmt.Sprintf("message larger than %d bytes; refused", c.max)
		c.log.Warn().Int("limit", c.max).Msg("refused an oversized message")
		if c.refused != nil {
			c.refused(nil, jsonrpc.ToolInPrefix(line), line, "oversized: "+msg)
		}
		c.answer(jsonrpc.ErrorResponse(nil, jsonrpc.CodeInvalidRequest, msg))
		return
	}
	body := bytes.TrimSpace(line)
	if len(body) == 0 {
		return
	}
	m, derr := jsonrpc.Decode(body)
	if derr != nil {
		var e *jsonrpc.Error
		if !errors.As(derr, &e) {
			e = &jsonrpc.Error{Code: jsonrpc.CodeParseError, Reason: jsonrpc.ReasonMalformed, Detail: derr.Error()}
		}
		c.log.Warn().Str("reason", string(e.Reason)).Str("detail", e.Detail).Msg("refused a malformed message; answered with an error")
		if c.refused != nil {
			for _, r := range e.ToolCalls() {
				c.refused(r.ID, r.Tool, body, "malformed ("+string(e.Reason)+"): "+e.Detail)
			}
		}
		c.answer(e.Response())
		return
	}
	if m.Method == "initialize" && m.IsRequest() {
		c.initSeen = true
	}
	if tc, ok := m.ToolCall(); ok && !c.initSeen && !modernCall(m) {
		msg := "tools/call before initialize: initialize the session first (refused, not served)"
		c.log.Warn().Str("tool", tc.Name).Str("reason", "before_initialize").Msg(msg)
		if c.refused != nil {
			c.refused(m.ID, tc.Name, body, "before_initialize: "+msg)
		}
		c.answer(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeInvalidRequest, msg))
		return
	}
	c.pending = append(m.Encode(), '\n')
}

// modernCall reports whether a request names, in params._meta, a known
// 2026-07-28-era protocol version: that era has no initialize handshake.
// An unknown version (a string that merely sorts after it) is not one.
func modernCall(m *jsonrpc.Message) bool {
	v := m.Meta(mcp.MetaKeyProtocolVersion)
	return mcp.IsValidProtocolVersion(v) && mcp.IsModernProtocol(v)
}

func (c *checkedInput) answer(b []byte) {
	if _, err := c.out.Write(append(b, '\n')); err != nil {
		c.log.Warn().Err(err).Msg("could not answer a refused message")
	}
}

// prefixKeep is how much of an oversized line readLine keeps.
const prefixKeep = 64 << 10

// readLine reads up to and including the next '\n', at most max bytes;
// a longer line is read to its end, dropped, and reported as tooLong with
// line holding its start (at most prefixKeep bytes).
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			if room := prefixKeep - len(line); room > 0 {
				line = append(line, chunk[:min(len(chunk), room)]...)
			}
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			return line[:min(len(line), prefixKeep)], true, err
		}
		line = append(line, chunk...)
		if err != bufio.ErrBufferFull {
			return line, false, err
		}
	}
}
