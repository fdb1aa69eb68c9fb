package mcpproxy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Class: framing. One line or one Content-Length frame is one message.
// A frame or line holding two messages, or a batch, must not smuggle a
// second message past the check; a line or frame over the limit is refused
// and skipped, and the session goes on.
func TestFramingOneFrameOneMessage(t *testing.T) {
	t.Parallel()
	const denied = `{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"crash","arguments":{"code":4}}}`
	const ping = `{"jsonrpc":"2.0","id":"p","method":"ping"}`
	cases := []struct {
		name  string
		bytes []byte
		tools int // receipts of the refusal
	}{
		{"two messages in one content-length frame", Frame([]byte(ping+denied), ContentLength), 1},
		{"two messages in one content-length frame, newline between", Frame([]byte(ping+"\n"+denied), ContentLength), 1},
		{"two messages on one line", []byte(ping + " " + denied + "\n"), 1},
		{"batch on one line", []byte("[" + ping + "," + denied + "]\n"), 1},
		{"batch in a content-length frame", Frame([]byte("["+denied+","+strings.Replace(denied, `"x"`, `"y"`, 1)+"]"), ContentLength), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startProxy(t, func(o *Options) { o.Policy = loadPolicy(t, "mode: enforce\ntools:\n  deny: [crash]\n") })
			c := newLineClient(h)
			c.handshake()
			h.write(tc.bytes)
			r := c.await(nil) // a refused frame is answered with a null id
			if code := errCode(r); code != -32600 {
				t.Fatalf("answered %v, want -32600", r)
			}
			if r := c.call(1, "echo", map[string]any{}); r["result"] == nil {
				t.Fatalf("the next message: %v", r)
			}
			h.closeClient()
			s := h.wait()
			in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
			if bytes.Contains(in, []byte("crash")) || bytes.Contains(in, []byte(`"p"`)) {
				t.Fatalf("the server read part of the refused frame: %q", in)
			}
			recs := h.receipts("mcp_tool_call")
			if len(recs) != tc.tools+1 || s.Refused != tc.tools {
				t.Fatalf("%d receipts, %d refused; want %d refusals and the echo", len(recs), s.Refused, tc.tools)
			}
			for _, r := range recs[:tc.tools] {
				if field(r, "tool_name") != "crash" || field(r, "outcome") != OutcomeDenied {
					t.Errorf("receipt %s", mustJSON(r))
				}
			}
		})
	}
}

// An oversized line or frame is refused with an error, skipped (never
// buffered whole, never forwarded), receipted under the tool its start
// names, and the session goes on with the next message.
func TestFramingOversizedMessage(t *testing.T) {
	t.Parallel()
	const limit = 4096
	big := `{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"echo","arguments":{"pad":"` + strings.Repeat("x", 2*limit) + `"}}}`
	for _, f := range []Framing{NDJSON, ContentLength} {
		t.Run(f.String(), func(t *testing.T) {
			h := startProxy(t, func(o *Options) { o.MaxMessage = limit })
			c := newLineClient(h)
			c.handshake()
			h.write(Frame([]byte(big), f))
			r := c.await(nil)
			if errCode(r) != -32600 || !strings.Contains(mustJSONString(r), "max-message") {
				t.Fatalf("answered %v", r)
			}
			if r := c.call(2, "get_weather", map[string]any{"city": "Oslo"}); r["result"] == nil {
				t.Fatalf("the next message: %v", r)
			}
			h.closeClient()
			s := h.wait()
			in, _ := os.ReadFile(filepath.Join(h.dir, "server_in"))
			if bytes.Contains(in, []byte("xxxx")) {
				t.Fatal("the server read the oversized message")
			}
			recs := h.receipts("mcp_tool_call")
			if len(recs) != 2 || field(recs[0], "tool_name") != "echo" || !strings.HasPrefix(field(recs[0], "outcome_detail"), "oversized: ") || field(recs[0], "outcome") != OutcomeDenied {
				t.Fatalf("receipts %s", mustJSON(recs))
			}
			if !s.Complete || s.Refused != 1 {
				t.Errorf("session complete %v %v, refused %d", s.Complete, s.Incomplete, s.Refused)
			}
		})
	}
}

// The reader never holds more than the limit of one message, and it stays
// in step after skipping one: what follows is read intact.
func TestReaderSkipsOversized(t *testing.T) {
	t.Parallel()
	const limit = 1024
	long := strings.Repeat("a", 10*limit)
	in := long + "\n" + "{\"ok\":1}\n" + string(Frame([]byte(long), ContentLength)) + string(Frame([]byte(`{"ok":2}`), ContentLength))
	r := NewReaderLimit(strings.NewReader(in), limit)
	var got []string
	var tooLarge []Framing
	for {
		m, err := r.Next()
		var tl *TooLargeError
		if errors.As(err, &tl) {
			if tl.Limit != limit || len(tl.Prefix) > prefixKeep || len(tl.Prefix) == 0 {
				t.Errorf("TooLargeError %+v", tl)
			}
			tooLarge = append(tooLarge, tl.Framing)
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(m.Body))
	}
	if strings.Join(got, " ") != `{"ok":1} {"ok":2}` || len(tooLarge) != 2 || tooLarge[0] != NDJSON || tooLarge[1] != ContentLength {
		t.Fatalf("messages %q, too large %v", got, tooLarge)
	}
}

// FuzzReaderLimit: any byte stream splits into messages and skipped oversized
// ones without a panic, each message within the limit, and the reader
// ends (it never spins on the same input).
func FuzzReaderLimit(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1}\n{\"b\":2}\n",
		"Content-Length: 7\r\n\r\n{\"a\":1}{\"b\":2}\n",
		"Content-Length: 99999\r\n\r\n{}",
		"content-length: 2\r\nX: y\r\n\r\n{}",
		"Content-Length: -1\r\n\r\n",
		strings.Repeat("x", 300) + "\n{}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const limit = 256
		r := NewReaderLimit(bytes.NewReader(b), limit)
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; ; i++ {
			if i > len(b)+1 || time.Now().After(deadline) {
				t.Fatalf("the reader does not end: %d messages from %d bytes", i, len(b))
			}
			m, err := r.Next()
			var tl *TooLargeError
			if errors.As(err, &tl) {
				continue
			}
			if err != nil {
				return
			}
			if len(m.Body) > limit {
				t.Fatalf("a %d-byte message passed a %d-byte limit", len(m.Body), limit)
			}
		}
	})
}

// The client's limit bounds requests; a server's result may be larger (a
// file read answered as text and as structured content): with the default
// limits a 9 MiB request whose echo is an ~18 MiB result is forwarded whole
// and recorded as forwarded.
func TestServerResultsLargerThanTheClientLimit(t *testing.T) {
	t.Parallel()
	h := startProxy(t, nil)
	c := newLineClient(h)
	c.handshake()
	pad := strings.Repeat("y", 9<<20)
	r := c.call(1, "echo", map[string]any{"pad": pad})
	res, _ := r["result"].(map[string]any)
	if res == nil || !strings.Contains(mustJSONString(res), pad) {
		t.Fatalf("the large result did not come through (%d bytes of answer)", len(mustJSONString(r)))
	}
	h.closeClient()
	s := h.wait()
	recs := h.receipts("mcp_tool_call")
	if len(recs) != 1 || field(recs[0], "outcome") != OutcomeForwarded || !s.Complete {
		t.Fatalf("receipts %d, outcome %q, complete %v", len(recs), field(recs[0], "outcome"), s.Complete)
	}
}
