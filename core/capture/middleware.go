package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/capture/provider"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/store"
)

// Options configure the Go SDK middleware.
type Options struct {
	// Store receives the receipts; default: the recorder named by
	// ASSAY_RECORDER when set (assay run sets it; each receipt is sealed
	// before the call returns), else store.OpenDefault() ($ASSAY_HOME or
	// ~/.assay).
	Store *store.Store
	// TraceID overrides $ASSAY_TRACE_ID (read at every call otherwise).
	TraceID string
	// Base is the wrapped transport; default http.DefaultTransport.
	Base http.RoundTripper
	// Async writes receipts on a background goroutine: the SDK call does not
	// wait for the fsync, and Close must be called before the program exits.
	// By default a receipt is durable before the SDK call returns (for a
	// stream: before the body's Close/EOF returns), which survives a crash.
	Async bool
	// SkipPackages are extra package path prefixes (your own wrappers) to
	// step over when looking for the callsite.
	SkipPackages []string
	// Logger for lost-receipt errors; default zerolog on stderr.
	Logger *zerolog.Logger
	// StoreContent puts prompts and answers into the receipts (opt-in;
	// also switched on by ASSAY_STORE_CONTENT=1).
	StoreContent bool
	// Recorder is the socket of a recorder to send receipts to (each is
	// stored and sealed before the call returns); default $ASSAY_RECORDER
	// when Store is nil.
	Recorder string
}

// Transport is an http.RoundTripper that records every OpenAI, Anthropic
// and Gemini call passing through it as a model_call receipt. Everything
// else passes through untouched. Use it in two lines:
//
//	hc, err := capture.NewClient(capture.Options{})
//	client := openai.NewClient(option.WithHTTPClient(hc))
//
// (anthropic.NewClient(option.WithHTTPClient(hc)); genai.NewClient(ctx,
// &genai.ClientConfig{HTTPClient: hc, ...})).
type Transport struct {
	base    http.RoundTripper
	rec     *Recorder
	skip    []string
	cwd     string
	content bool
}

// NewTransport returns the middleware.
func NewTransport(o Options) (*Transport, error) {
	var sink Sink = o.Store
	if addr := o.Recorder; addr != "" || o.Store == nil {
		if addr == "" {
			addr = client.Addr(os.Getenv)
		}
		if addr != "" {
			c, err := client.Dial(addr)
			if err != nil {
				return nil, fmt.Errorf("capture: %w", err)
			}
			sink = c
		} else {
			st, err := store.OpenDefault()
			if err != nil {
				return nil, fmt.Errorf("capture: open the assay store: %w", err)
			}
			sink = st
		}
	}
	rec, err := NewRecorder(RecorderOptions{Store: sink, TraceID: o.TraceID, Async: o.Async, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	base := o.Base
	if base == nil {
		base = http.DefaultTransport
	}
	cwd, _ := os.Getwd()
	return &Transport{base: base, rec: rec, skip: append(append([]string(nil), skipDefault...), o.SkipPackages...), cwd: cwd,
		content: o.StoreContent || StoreContentFromEnv()}, nil
}

// NewClient returns an *http.Client using a new Transport.
func NewClient(o Options) (*http.Client, error) {
	t, err := NewTransport(o)
	if err != nil {
		return nil, err
	}
	return t.Client(), nil
}

// Client returns an *http.Client using t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// Stats returns the receipt counters.
func (t *Transport) Stats() Stats { return t.rec.Stats() }

// Close waits until every receipt is durable (Async mode) and reports
// receipts that could not be written.
func (t *Transport) Close() error { return t.rec.Close() }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost {
		return t.base.RoundTrip(req)
	}
	prov, api := provider.Detect(req.URL.Path)
	if prov == nil {
		return t.base.RoundTrip(req)
	}
	orig := req
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("capture: read request body: %w", err)
		}
		body = b
		// A copy, so the SDK's own body is not consumed twice and retries
		// (GetBody) still work.
		out := req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		out.ContentLength = int64(len(b))
		req = out
	}
	if isLoopback(req.URL.Hostname()) {
		// Probably our own gateway: tell it this call is already recorded so
		// one call does not yield two receipts.
		if req == orig {
			req = req.Clone(req.Context())
		}
		req.Header.Set(HeaderCaptured, SourceMiddleware)
	}
	x := Begin(t.rec, ExchangeOptions{Provider: prov, API: api, Request: req, Body: body, Source: SourceMiddleware, Content: t.content})
	x.Call.CallsiteID, x.Call.CallsiteFile, x.Call.CallsiteLine = t.callsite()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		x.Fail(err)
		return nil, err
	}
	x.Observe(resp)
	return resp, nil
}

// HeaderCaptured marks a request whose receipt the middleware writes; the
// gateway forwards such requests without a second receipt (and strips the
// header). It is only sent to loopback hosts.
const HeaderCaptured = "X-Assay-Captured"

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// skipDefault are the packages a callsite is never in: the SDKs, their
// helpers, and this package.
var skipDefault = []string{
	"github.com/openai/openai-go",
	"github.com/anthropics/anthropic-sdk-go",
	"google.golang.org/genai",
	"cloud.google.com/go/",
	"golang.org/x/",
	"go.opentelemetry.io/",
	"github.com/assay-dev/assay/core/capture.",
	"github.com/assay-dev/assay/core/capture/",
}

// stdRoots are standard-library package roots, recognised by name when
// the binary was built with -trimpath (no GOROOT in file names).
var stdRoots = map[string]bool{
	"runtime": true, "net": true, "context": true, "sync": true, "io": true, "internal": true,
	"crypto": true, "reflect": true, "iter": true, "bufio": true, "encoding": true, "testing": true,
}

var goroot = filepath.ToSlash(runtime.GOROOT()) + "/src/"

// callsite finds the first caller frame outside the SDKs, the standard
// library and this package, and returns the reference's callsite_id: the
// first 12 hex of sha256("<path relative to the working directory>:<line>").
func (t *Transport) callsite() (id, file string, line int) {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !t.skipped(f) {
			file = filepath.ToSlash(f.File)
			if filepath.IsAbs(f.File) && t.cwd != "" {
				if rel, err := filepath.Rel(t.cwd, f.File); err == nil {
					file = filepath.ToSlash(rel)
				}
			}
			return CallsiteID(file, f.Line), file, f.Line
		}
		if !more {
			return "", "", 0
		}
	}
}

// CallsiteID is the first 12 hex characters of sha256("file:line").
func CallsiteID(file string, line int) string {
	s := sha256.Sum256([]byte(fmt.Sprintf("%s:%d", file, line)))
	return hex.EncodeToString(s[:])[:12]
}

func (t *Transport) skipped(f runtime.Frame) bool {
	fn := f.Function
	for _, p := range t.skip {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	if strings.HasPrefix(filepath.ToSlash(f.File), goroot) {
		return true
	}
	pkg := fn
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		root := pkg[:strings.Index(pkg, "/")]
		if !strings.Contains(root, ".") && stdRoots[root] {
			return true
		}
		return false
	}
	root, _, _ := strings.Cut(pkg, ".")
	return stdRoots[root]
}
