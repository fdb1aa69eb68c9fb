package mcpdrain

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// eofSignal closes reached when the reader under it returns EOF.
type eofSignal struct {
	r       io.Reader
	once    sync.Once
	reached chan struct{}
}

func (e *eofSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.once.Do(func() { close(e.reached) })
	}
	return n, err
}

// TestEveryCallAnsweredBeforeEOF drives mcp-go's real stdio server: the
// client writes its calls and closes stdin, and each tool answers only
// after stdin has reached EOF. mcp-go alone would cancel them; through a
// Drain every call is answered, also a last request without its newline.
func TestEveryCallAnsweredBeforeEOF(t *testing.T) {
	t.Parallel()
	const calls = 5
	in := &eofSignal{reached: make(chan struct{})}
	s := server.NewMCPServer("drain-test", "1.0.0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("after_eof"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-in.reached:
			return mcp.NewToolResultText("answered"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	var msgs []string
	msgs = append(msgs, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i := 1; i <= calls; i++ {
		msgs = append(msgs, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"after_eof","arguments":{}}}`, i))
	}
	in.r = strings.NewReader(strings.Join(msgs, "\n")) // the last line has no newline
	pr, pw := io.Pipe()
	d := New(t.Context(), in, pw, Options{})
	done := make(chan error, 1)
	go func() {
		done <- server.NewStdioServer(s).Listen(t.Context(), d, d)
		pw.Close()
	}()
	answered := map[float64]bool{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var m struct {
			ID     float64         `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.Result == nil {
			t.Fatalf("not a result: %s", sc.Bytes())
		}
		answered[m.ID] = true
	}
	<-done
	for i := 0; i <= calls; i++ {
		if !answered[float64(i)] {
			t.Errorf("request %d was not answered (got %v)", i, answered)
		}
	}
	if d.Pending() != 0 {
		t.Errorf("%d requests still pending", d.Pending())
	}
}

// TestEOFNotHeldForever: a request nobody answers holds EOF only until ctx
// ends; notifications and responses the client sends are never waited for.
func TestEOFNotHeldForever(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		input   string
		pending int
		cancel  bool
	}{
		{"notification and client response only", `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n" + `{"jsonrpc":"2.0","id":"x","result":{}}` + "\n", 0, false},
		{"unanswered request, ctx ends", `{"jsonrpc":"2.0","id":"a","method":"ping"}` + "\n", 1, true},
		{"not JSON-RPC", "garbage\n", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			d := New(ctx, strings.NewReader(tc.input), io.Discard, Options{})
			if tc.cancel {
				cancel()
			} else {
				defer cancel()
			}
			if _, err := io.ReadAll(d); err != nil {
				t.Fatal(err)
			}
			if d.Pending() != tc.pending {
				t.Fatalf("pending %d, want %d", d.Pending(), tc.pending)
			}
		})
	}
}

// TestResponsesMatchByID: a response answers the request with the same id
// as mcp-go round-trips it (1 and 1.0 are one id; "1" is another).
func TestResponsesMatchByID(t *testing.T) {
	t.Parallel()
	d := New(t.Context(), strings.NewReader(""), io.Discard, Options{})
	d.scan([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n" + `{"jsonrpc":"2.0","id":"1","method":"ping"}` + "\n"))
	if d.Pending() != 2 {
		t.Fatalf("pending %d, want 2", d.Pending())
	}
	// Written in two pieces: the line is noted once it is whole.
	_, _ = d.Write([]byte(`{"jsonrpc":"2.0","id":1.0,`))
	_, _ = d.Write([]byte(`"result":{}}` + "\n"))
	if d.Pending() != 1 {
		t.Fatalf("pending %d after answering id 1, want 1", d.Pending())
	}
	_, _ = d.Write([]byte(`{"jsonrpc":"2.0","id":"1","result":{}}` + "\n"))
	_, _ = d.Write([]byte(`{"jsonrpc":"2.0","id":"1","result":{}}` + "\n")) // a duplicate answers nothing
	if d.Pending() != 0 {
		t.Fatalf("pending %d, want 0", d.Pending())
	}
}
