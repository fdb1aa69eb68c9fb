package mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// These tests drive Serve with mcp-go's real client over io.Pipe pairs, so
// the JSON-RPC framing is exercised too. mcp-go's stdio session is a
// package-level singleton, so no test here runs in parallel.

type session struct {
	c     *client.Client
	done  chan error     // Serve's result
	close func() error   // closes the client side (stdin EOF for the server)
	wr    *io.PipeWriter // the server's stdout
}

// serve starts Serve on pipes and an initialized client against it.
func serve(t *testing.T, ctx context.Context, opts Options, copts ...client.ClientOption) *session {
	t.Helper()
	inR, inW := io.Pipe()   // client -> server
	outR, outW := io.Pipe() // server -> client
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, inR, outW, opts)
		outW.Close()
	}()
	c := client.NewClient(transport.NewIO(outR, inW, io.NopCloser(strings.NewReader(""))), copts...)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpserver-test", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	s := &session{c: c, done: done, close: c.Close, wr: outW}
	t.Cleanup(func() { _ = c.Close() })
	return s
}

// wait asserts Serve returns nil within d.
func (s *session) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("Serve did not return within %v", d)
	}
}

func call(t *testing.T, ctx context.Context, c *client.Client, name string, args any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// structured decodes structuredContent into a generic JSON value.
func structured(t *testing.T, r *mcp.CallToolResult) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("structuredContent %s: %v", b, err)
	}
	return m
}

var eras = []struct {
	name   string
	modern bool
	opts   []client.ClientOption
}{
	{"2026 stateless", true, nil},
	{"legacy handshake", false, []client.ClientOption{client.WithLegacyProtocolOnly()}},
}

var demoNames = []string{"calculate_risk", "check_inventory", "delete_records", "get_weather", "record_action"}
var faultNames = []string{"crash", "echo", "fail", "garbage", "hang", "slow"}

func TestToolsList(t *testing.T) {
	t.Parallel()
	for _, era := range eras {
		for _, faults := range []bool{false, true} {
			t.Run(era.name+map[bool]string{false: "", true: " faults"}[faults], func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				s := serve(t, ctx, Options{Faults: faults}, era.opts...)
				if v := s.c.ProtocolVersion(); mcp.IsModernProtocol(v) != era.modern {
					t.Errorf("negotiated protocol %q, want modern=%v", v, era.modern)
				}
				res, err := s.c.ListTools(ctx, mcp.ListToolsRequest{})
				if err != nil {
					t.Fatal(err)
				}
				want := append([]string(nil), demoNames...)
				if faults {
					want = append(want, faultNames...)
				}
				sort.Strings(want)
				var got []string
				for _, tl := range res.Tools {
					got = append(got, tl.Name)
					checkTool(t, tl)
				}
				sort.Strings(got)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("tools = %v, want %v", got, want)
				}
				// The destructive demo tool is flagged as such, the rest are not.
				for _, tl := range res.Tools {
					d := *tl.Annotations.DestructiveHint
					if wantD := tl.Name == "delete_records" || tl.Name == "crash"; d != wantD {
						t.Errorf("%s: destructiveHint = %v, want %v", tl.Name, d, wantD)
					}
				}
				_ = s.close()
				s.wait(t, 2*time.Second)
			})
		}
	}
}

var toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// checkTool asserts the registry invariants: all four hints sent, read-only
// implies not destructive, object input schemas with properties and a
// description on every property.
func checkTool(t *testing.T, tl mcp.Tool) {
	t.Helper()
	a := tl.Annotations
	if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
		t.Errorf("%s: not all four hints are set: %+v", tl.Name, a)
		return
	}
	if *a.ReadOnlyHint && *a.DestructiveHint {
		t.Errorf("%s: read-only and destructive", tl.Name)
	}
	if *a.OpenWorldHint {
		t.Errorf("%s: openWorldHint true, but the demo server never leaves the process", tl.Name)
	}
	if !toolName.MatchString(tl.Name) || tl.Description == "" || a.Title == "" {
		t.Errorf("%s: bad name, or no description or title", tl.Name)
	}
	b, err := json.Marshal(tl)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		InputSchema struct {
			Type       string                    `json:"type"`
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		} `json:"inputSchema"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", tl.Name, err)
	}
	s := doc.InputSchema
	if s.Type != "object" || s.Properties == nil {
		t.Errorf("%s: input schema %s is not an object with properties", tl.Name, b)
	}
	for name, p := range s.Properties {
		if d, _ := p["description"].(string); d == "" {
			t.Errorf("%s.%s: no description", tl.Name, name)
		}
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			t.Errorf("%s: required %q is not a property", tl.Name, r)
		}
	}
}

func TestDemoTools(t *testing.T) {
	cases := []struct {
		tool    string
		args    map[string]any
		isError bool
		text    string         // substring of the text content
		fields  map[string]any // members of structuredContent
		keys    []string       // further members that must be present
	}{
		{"get_weather", map[string]any{"city": "Paris"}, false, "Weather in Paris:",
			map[string]any{"city": "Paris", "synthetic": true}, []string{"conditions", "temperature_c", "humidity_pct"}},
		{"check_inventory", map[string]any{"sku": "SKU-1042"}, false, "SKU-1042",
			map[string]any{"sku": "SKU-1042", "synthetic": true}, []string{"in_stock", "quantity", "warehouse"}},
		{"calculate_risk", map[string]any{"amount": 250000, "country": "de"}, false, "Risk for 250000 in DE",
			// 70 points for the amount (capped), plus a country part of 0..30: always high.
			map[string]any{"amount": 250000.0, "country": "DE", "level": "high", "synthetic": true}, []string{"score"}},
		{"calculate_risk", map[string]any{"amount": 0}, false, "in US",
			map[string]any{"country": "US"}, []string{"score", "level"}},
		{"delete_records", map[string]any{"table": "customers", "where": "id > 10"}, false, "nothing was deleted",
			map[string]any{"table": "customers", "where": "id > 10", "deleted": 0.0, "synthetic": true}, []string{"would_delete"}},
		{"get_weather", map[string]any{}, true, "city", nil, nil},
		{"calculate_risk", map[string]any{"amount": -5}, true, "", nil, nil},
		{"delete_records", map[string]any{"table": "x; drop", "where": "1=1"}, true, "", nil, nil},
		{"record_action", map[string]any{"action": "x"}, true, "ASSAY_TRACE_ID is not set", nil, nil},
	}
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) {
			t.Setenv("ASSAY_TRACE_ID", "")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s := serve(t, ctx, Options{}, era.opts...)
			for _, c := range cases {
				res := call(t, ctx, s.c, c.tool, c.args)
				if res.IsError != c.isError {
					t.Errorf("%s %v: isError = %v (%s), want %v", c.tool, c.args, res.IsError, text(res), c.isError)
					continue
				}
				if !strings.Contains(text(res), c.text) {
					t.Errorf("%s %v: text %q does not contain %q", c.tool, c.args, text(res), c.text)
				}
				if c.isError {
					continue
				}
				got := structured(t, res)
				for k, v := range c.fields {
					if !reflect.DeepEqual(got[k], v) {
						t.Errorf("%s %v: structuredContent.%s = %#v, want %#v", c.tool, c.args, k, got[k], v)
					}
				}
				for _, k := range c.keys {
					if _, ok := got[k]; !ok {
						t.Errorf("%s %v: structuredContent has no %s: %v", c.tool, c.args, k, got)
					}
				}
				// Deterministic: a second call gives the same result.
				again := call(t, ctx, s.c, c.tool, c.args)
				if text(again) != text(res) || !reflect.DeepEqual(structured(t, again), got) {
					t.Errorf("%s %v: second call differs: %q vs %q", c.tool, c.args, text(again), text(res))
				}
			}
			_ = s.close()
			s.wait(t, 2*time.Second)
		})
	}
}

// Different inputs give different synthetic answers (the data is derived
// from the input, not constant).
func TestDemoToolsVary(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := serve(t, ctx, Options{})
	seen := map[string]bool{}
	for _, city := range []string{"Paris", "Lagos", "Lima", "Oslo", "Pune", "Perth"} {
		seen[text(call(t, ctx, s.c, "get_weather", map[string]any{"city": city}))[len("Weather in "+city):]] = true
	}
	if len(seen) < 2 {
		t.Errorf("get_weather gives one answer for six cities: %v", seen)
	}
	low := structured(t, call(t, ctx, s.c, "calculate_risk", map[string]any{"amount": 1000, "country": "FR"}))
	high := structured(t, call(t, ctx, s.c, "calculate_risk", map[string]any{"amount": 60000, "country": "FR"}))
	if low["score"].(float64)+59 != high["score"].(float64) {
		t.Errorf("calculate_risk: score(1000)=%v, score(60000)=%v; want a difference of 59", low["score"], high["score"])
	}
}

func TestFaultToolsInProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	exited := make(chan int, 1)
	s := serve(t, ctx, Options{Faults: true, Exit: func(code int) { exited <- code }})

	args := map[string]any{"b": []any{1.0, "two", nil}, "a": map[string]any{"nested": true}, "s": "x\"y"}
	res := call(t, ctx, s.c, "echo", args)
	var back map[string]any
	if err := json.Unmarshal([]byte(text(res)), &back); err != nil || !reflect.DeepEqual(back, args) {
		t.Errorf("echo text = %q (%v), want the arguments %v", text(res), err, args)
	}
	if !reflect.DeepEqual(structured(t, res), args) || res.IsError {
		t.Errorf("echo structuredContent = %v, want %v", res.StructuredContent, args)
	}

	res = call(t, ctx, s.c, "fail", map[string]any{"message": "boom"})
	if !res.IsError || text(res) != "boom" {
		t.Errorf("fail = isError %v %q, want isError \"boom\"", res.IsError, text(res))
	}

	start := time.Now()
	res = call(t, ctx, s.c, "slow", map[string]any{"ms": 150})
	if el := time.Since(start); res.IsError || el < 150*time.Millisecond {
		t.Errorf("slow 150 ms answered after %v (isError %v)", el, res.IsError)
	}

	res = call(t, ctx, s.c, "crash", map[string]any{"code": 7})
	select {
	case code := <-exited:
		if code != 7 {
			t.Errorf("crash called Exit(%d), want 7", code)
		}
	default:
		t.Error("crash answered without calling Exit")
	}
	if !res.IsError {
		t.Error("crash with a returning Exit hook must not look like success")
	}

	res = call(t, ctx, s.c, "garbage", map[string]any{"text": "a\nb"})
	if !res.IsError {
		t.Error("garbage accepted a text with a line break")
	}
	_ = s.close()
	s.wait(t, 2*time.Second)
}

// stdin EOF while hang is in flight does not end Serve; ctx does.
func TestHangOutlivesEOF(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := serve(t, ctx, Options{Faults: true})
	callCtx, stop := context.WithCancel(ctx)
	defer stop()
	answered := make(chan *mcp.CallToolResult, 1)
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name = "hang"
		// Closing the client ends the call with an error; only a result
		// would mean the server answered.
		if res, err := s.c.CallTool(callCtx, req); err == nil {
			answered <- res
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the call reach the server
	_ = s.close()
	select {
	case err := <-s.done:
		t.Fatalf("Serve returned (%v) on EOF while hang was in flight", err)
	case res := <-answered:
		t.Fatalf("hang answered: %q", text(res))
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	s.wait(t, 2*time.Second)
}
