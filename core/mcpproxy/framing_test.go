package mcpproxy

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// The reader splits a stream into messages whose Raw bytes, concatenated,
// are the stream: nothing is lost or invented, whatever the framing.
func TestReaderTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     string
		bodies []string
		frames []Framing
		err    error // after the messages
	}{
		{"ndjson", "{\"a\":1}\n{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}, []Framing{NDJSON, NDJSON}, io.EOF},
		{"crlf", "{\"a\":1}\r\n", []string{`{"a":1}`}, []Framing{NDJSON}, io.EOF},
		{"last line without newline", "{\"a\":1}\n{\"b\"", []string{`{"a":1}`, `{"b"`}, []Framing{NDJSON, NDJSON}, io.EOF},
		{"content-length", "Content-Length: 7\r\n\r\n{\"a\":1}{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}, []Framing{ContentLength, NDJSON}, io.EOF},
		{"content-length with more headers", "content-length: 2\r\nContent-Type: application/json\r\n\r\n{}", []string{`{}`}, []Framing{ContentLength}, io.EOF},
		{"body holds newlines", "Content-Length: 10\r\n\r\n{\n\"a\":\n1}\n", []string{"{\n\"a\":\n1}\n"}, []Framing{ContentLength}, io.EOF},
		{"truncated body", "Content-Length: 20\r\n\r\n{}", nil, nil, io.ErrUnexpectedEOF},
		{"blank line", "\n{}\n", []string{"", "{}"}, []Framing{NDJSON, NDJSON}, io.EOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in))
			var raw bytes.Buffer
			for i := 0; ; i++ {
				m, err := r.Next()
				if err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("error %v, want %v", err, tc.err)
					}
					if i != len(tc.bodies) {
						t.Fatalf("%d messages, want %d", i, len(tc.bodies))
					}
					break
				}
				if i >= len(tc.bodies) || string(m.Body) != tc.bodies[i] || m.Framing != tc.frames[i] {
					t.Fatalf("message %d: %q %v", i, m.Body, m.Framing)
				}
				raw.Write(m.Raw)
			}
			if tc.err == io.EOF && raw.String() != tc.in {
				t.Errorf("Raw bytes %q, want the stream %q", raw.String(), tc.in)
			}
			// Frame is the inverse for both framings.
			for _, b := range tc.bodies {
				for _, f := range []Framing{NDJSON, ContentLength} {
					if strings.Contains(b, "\n") && f == NDJSON {
						continue
					}
					m, err := NewReader(bytes.NewReader(Frame([]byte(b), f))).Next()
					if b == "" && f == NDJSON {
						continue
					}
					if err != nil || string(m.Body) != b || m.Framing != f {
						t.Errorf("Frame(%q, %v) reads back as %q %v %v", b, f, m.Body, m.Framing, err)
					}
				}
			}
		})
	}
}

// FuzzReader: any stream splits into messages without a panic, and when it
// ends cleanly the messages' Raw bytes are exactly the stream.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"{}\n", "Content-Length: 2\r\n\r\n{}", "Content-Length: x\n", "content-length:5\n\n{}", "\n\n", "Content-Length: 99999999999\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		var raw bytes.Buffer
		for n := 0; n <= len(in)+1; n++ {
			m, err := r.Next()
			if err != nil {
				if errors.Is(err, io.EOF) && !bytes.Equal(raw.Bytes(), in) {
					t.Fatalf("clean end, but Raw bytes %q differ from the stream %q", raw.Bytes(), in)
				}
				return
			}
			if len(m.Raw) == 0 {
				t.Fatalf("an empty message at %d", raw.Len())
			}
			raw.Write(m.Raw)
		}
		t.Fatal("more messages than bytes")
	})
}
