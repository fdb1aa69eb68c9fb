package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/exit"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// startHTTP runs the server on addr in the background and returns its URL.
func startHTTP(t *testing.T, o Options) string {
	t.Helper()
	o.Env = append(o.Env, "ASSAY_HOME="+t.TempDir())
	root, _ := filepath.EvalSymlinks(t.TempDir())
	o.Roots = append(o.Roots, root)
	o.LogLevel, o.LogFormat = "warn", "json"
	urls := make(chan string, 1)
	o.OnListen = func(u string) { urls <- u }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, nil, io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	return ""
}

func post(t *testing.T, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(initBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestHTTPSecurity(t *testing.T) {
	t.Parallel()
	// A non-loopback bind (all interfaces) with a token; the test reaches it
	// over loopback, so Host checks pass and only our layer decides.
	url := startHTTP(t, Options{HTTP: "0.0.0.0:0", Token: "s3cret"})
	url = strings.Replace(url, "0.0.0.0", "127.0.0.1", 1)
	url = strings.Replace(url, "[::]", "127.0.0.1", 1)
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"not bearer", map[string]string{"Authorization": "Basic czNjcmV0"}, http.StatusUnauthorized},
		{"foreign origin", map[string]string{"Authorization": "Bearer s3cret", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"foreign origin without token", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"loopback origin", map[string]string{"Authorization": "Bearer s3cret", "Origin": "http://localhost:5173"}, http.StatusOK},
		{"good token", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := post(t, url, c.hdr)
			if res.StatusCode != c.want {
				t.Fatalf("status %d, want %d", res.StatusCode, c.want)
			}
			if c.want == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: Bearer")
			}
		})
	}

	// A real client with the token works end to end, and a path outside
	// the roots is an isError result.
	cli, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cli.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "t", Version: "1"}
	if _, err := cli.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	lt, err := cli.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(lt.Tools) == 0 {
		t.Fatalf("tools/list: %v", err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "verify-pack"
	req.Params.Arguments = map[string]any{"path": "/etc"}
	res, err := cli.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "outside the allowed roots") {
		t.Fatalf("path outside roots over HTTP: %+v", res)
	}
	req.Params.Name = "run-flow"
	req.Params.Arguments = map[string]any{"flow": "try", "apply": true}
	if res, err = cli.CallTool(ctx, req); err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "--allow-exec") {
		t.Fatalf("run-flow apply without --allow-exec over HTTP: %+v", res)
	}
}

// A loopback bind without a token still refuses foreign Origins.
func TestHTTPLoopbackNoToken(t *testing.T) {
	t.Parallel()
	url := startHTTP(t, Options{HTTP: ":0"})
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf(":0 must bind 127.0.0.1, got %s", url)
	}
	if res := post(t, url, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if res := post(t, url, map[string]string{"Origin": "http://evil.example"}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: status %d", res.StatusCode)
	}
	// A foreign Host on a loopback connection (DNS rebinding) is refused by mcp-go.
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(initBody))
	req.Host = "evil.example"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Host: status %d", res.StatusCode)
	}
}

func TestRunRefusesBadSetups(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"non-loopback without token", Options{HTTP: "0.0.0.0:0"}, "without a bearer token"},
		{"bad address", Options{HTTP: "nonsense"}, "bad --http address"},
		{"bad log level", Options{LogLevel: "loud"}, "--log-level"},
		{"missing root", Options{Roots: []string{"/does/not/exist"}}, "does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.o.LogLevel == "" {
				c.o.LogLevel = "info"
			}
			c.o.LogFormat = "json"
			var logs strings.Builder
			c.o.Env = []string{"ASSAY_HOME=" + home}
			err := Run(context.Background(), c.o, strings.NewReader(""), io.Discard, &logs)
			if err == nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v (exit %d), want exit 3 mentioning %q", err, exit.Code(err), c.want)
			}
			// A refused setup never announces itself as ready first.
			if strings.Contains(logs.String(), "assay-mcp ready") {
				t.Fatalf("logged ready before refusing: %s", logs.String())
			}
		})
	}
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{":8080": "127.0.0.1:8080", "8080": "127.0.0.1:8080", "0.0.0.0:1": "0.0.0.0:1", "[::1]:9": "[::1]:9"} {
		got, _, err := ListenAddr(in)
		if err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, _, err := ListenAddr("localhost"); err == nil {
		t.Error("an address without a port was accepted")
	}
}

func TestLogFile(t *testing.T) {
	t.Parallel()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	logf := filepath.Join(t.TempDir(), "mcp.log")
	var stderr bytes.Buffer
	err := Run(context.Background(), Options{Roots: []string{root}, LogLevel: "info", LogFormat: "json", LogFile: logf, Env: []string{"ASSAY_HOME=" + t.TempDir()}}, strings.NewReader(""), io.Discard, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(logf)
	if !strings.Contains(string(b), "assay-mcp ready") || stderr.Len() != 0 {
		t.Fatalf("log file %q, stderr %q", b, stderr.String())
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// A scripted client that writes its requests and closes stdin at once gets
// every answer (mcp-go alone cancels in-flight calls at EOF).
func TestStdioAnswersEverythingBeforeEOF(t *testing.T) {
	t.Parallel()
	root, _ := filepath.EvalSymlinks(t.TempDir())
	var in strings.Builder
	in.WriteString(initBody + "\n" + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	const n = 20
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"emit-receipt","arguments":{"type":"decision_v1","data":{"i":%d}}}}`+"\n", 100+i, i)
	}
	in.WriteString(`{"jsonrpc":"2.0","id":999,"method":"tools/list"}`) // no final newline
	var out lockedBuf
	if err := Run(context.Background(), Options{Roots: []string{root}, LogLevel: "error", LogFormat: "json", Env: []string{"ASSAY_HOME=" + t.TempDir()}}, strings.NewReader(in.String()), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.b.String()), "\n") {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		if m.Result != nil {
			ids[string(m.ID)] = true
		}
	}
	if len(ids) != n+2 || !ids["999"] || !ids["119"] {
		t.Fatalf("got %d answers, want %d: %v", len(ids), n+2, ids)
	}
}
