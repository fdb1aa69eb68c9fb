package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/provider"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Route names: the path prefixes of the gateway and the keys of
// Options.Upstreams.
const (
	RouteOpenAI    = "openai"
	RouteAnthropic = "anthropic"
	RouteGemini    = "gemini"
)

// Routes lists the route names.
var Routes = []string{RouteOpenAI, RouteAnthropic, RouteGemini}

// DefaultUpstreams are the vendors' own base URLs (what each SDK uses when
// its base-URL variable is unset).
var DefaultUpstreams = map[string]string{
	RouteOpenAI:    "https://api.openai.com/v1",
	RouteAnthropic: "https://api.anthropic.com",
	RouteGemini:    "https://generativelanguage.googleapis.com",
}

// UpstreamEnv names the variables that override each route's upstream.
var UpstreamEnv = map[string]string{
	RouteOpenAI:    "ASSAY_UPSTREAM_OPENAI",
	RouteAnthropic: "ASSAY_UPSTREAM_ANTHROPIC",
	RouteGemini:    "ASSAY_UPSTREAM_GEMINI",
}

// BaseURLEnv names the SDK variable the gateway sets for each route (the
// one the official Go, JS and Python SDKs read).
var BaseURLEnv = map[string]string{
	RouteOpenAI:    "OPENAI_BASE_URL",
	RouteAnthropic: "ANTHROPIC_BASE_URL",
	RouteGemini:    "GOOGLE_GEMINI_BASE_URL",
}

var routeProvider = map[string]provider.Provider{
	RouteOpenAI:    provider.OpenAI{},
	RouteAnthropic: provider.Anthropic{},
	RouteGemini:    provider.Gemini{},
}

// UpstreamsFromEnv resolves each route's upstream from the environment:
// ASSAY_UPSTREAM_<X>, else the SDK's own base-URL variable if the user had
// already set it (so a chain to Azure or LiteLLM survives the gateway
// taking that variable over), else the vendor default. getenv is
// os.Getenv when nil.
func UpstreamsFromEnv(getenv func(string) string) map[string]string {
	if getenv == nil {
		getenv = os.Getenv
	}
	out := map[string]string{}
	for _, r := range Routes {
		switch {
		case getenv(UpstreamEnv[r]) != "":
			out[r] = getenv(UpstreamEnv[r])
		case getenv(BaseURLEnv[r]) != "":
			out[r] = getenv(BaseURLEnv[r])
		default:
			out[r] = DefaultUpstreams[r]
		}
	}
	return out
}

// Options configure a gateway.
type Options struct {
	// Addr to listen on; default 127.0.0.1:0 (a free loopback port).
	Addr string
	// Store receives the receipts (required).
	Store *store.Store
	// Sink, when set, receives the receipts instead of Store (assay run
	// passes its recorder, which seals each one as it is stored).
	Sink capture.Sink
	// TraceID of the receipts; default $ASSAY_TRACE_ID, else a new trace.
	TraceID string
	// Upstreams by route (openai, anthropic, gemini); missing routes use
	// UpstreamsFromEnv(nil).
	Upstreams map[string]string
	// GracePeriod is how long Close waits for in-flight calls before it
	// cuts them (they are still recorded); default 30 s.
	GracePeriod time.Duration
	// Logger for diagnostics; default zerolog on stderr at warn level.
	Logger *zerolog.Logger
	// Transport to the upstreams; default a pooled http.Transport.
	Transport http.RoundTripper
	// StoreContent puts prompts and answers into the receipts (opt-in;
	// also switched on by ASSAY_STORE_CONTENT=1).
	StoreContent bool
}

// Stats are the gateway's counters.
type Stats struct {
	Requests        int64 `json:"requests"`
	ModelCalls      int64 `json:"model_calls"`
	ReceiptsWritten int64 `json:"receipts_written"`
	ReceiptsLost    int64 `json:"receipts_lost"`
	ReceiptsPending int64 `json:"receipts_pending"`
}

// Gateway is a running recording gateway.
type Gateway struct {
	url       string
	traceID   string
	ln        net.Listener
	srv       *http.Server
	proxy     *httputil.ReverseProxy
	rec       *capture.Recorder
	upstreams map[string]*url.URL
	log       zerolog.Logger
	grace     time.Duration
	content   bool

	inflight  sync.WaitGroup
	requests  atomic.Int64
	calls     atomic.Int64
	forced    atomic.Bool // Close cut in-flight calls after the grace period
	connMu    sync.Mutex
	fresh     map[net.Conn]bool // accepted connections that have not sent a request yet
	closeOnce sync.Once
	closeErr  error
	stopCtx   atomic.Pointer[func() bool] // releases the ctx hook
}

type ctxKey struct{}

// reqState travels with a request through the reverse proxy.
type reqState struct {
	target *url.URL
	x      *capture.Exchange // nil for pass-through requests
	route  string
}

// Start listens and serves until Close (or until ctx ends).
func Start(ctx context.Context, o Options) (*Gateway, error) {
	if o.Store == nil {
		return nil, errors.New("gateway: a store is required")
	}
	g := &Gateway{upstreams: map[string]*url.URL{}, grace: o.GracePeriod, fresh: map[net.Conn]bool{}, content: o.StoreContent || capture.StoreContentFromEnv()}
	if g.grace <= 0 {
		g.grace = 30 * time.Second
	}
	if o.Logger != nil {
		g.log = *o.Logger
	} else {
		g.log = zerolog.New(os.Stderr).With().Timestamp().Logger().Level(zerolog.WarnLevel)
	}
	env := UpstreamsFromEnv(nil)
	for _, r := range Routes {
		raw := o.Upstreams[r]
		if raw == "" {
			raw = env[r]
		}
		u, err := parseUpstream(raw)
		if err != nil {
			return nil, exit.Bad("give an http(s) URL, e.g. "+UpstreamEnv[r]+"=http://127.0.0.1:4000/v1", "bad %s upstream %q: %v", r, raw, err)
		}
		g.upstreams[r] = u
	}
	for k := range o.Upstreams {
		if routeProvider[k] == nil {
			return nil, exit.Bad("use openai, anthropic or gemini", "unknown upstream route %q", k)
		}
	}
	g.traceID = o.TraceID
	if g.traceID == "" {
		g.traceID = os.Getenv(store.EnvTrace)
	}
	if g.traceID == "" {
		g.traceID = store.NewTraceID()
	}
	rec, err := capture.NewRecorder(capture.RecorderOptions{Store: sinkOr(o.Sink, o.Store), TraceID: g.traceID, Async: true, Logger: &g.log})
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = rec.Close()
		return nil, exit.Bad("pick a free loopback HOST:PORT, e.g. 127.0.0.1:0", "gateway cannot listen on %s: %v", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		g.log.Warn().Str("addr", ln.Addr().String()).Msg("assay gateway: listening beyond loopback; anyone who can reach this address can send calls through it")
	}
	g.ln, g.rec = ln, rec
	g.url = "http://" + ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// Bound to every interface: the URL the SDKs on this host are
		// given is loopback ("http://[::]:port" is no address to dial).
		g.url = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	for r, u := range g.upstreams {
		if u.Host == ln.Addr().String() {
			_ = ln.Close()
			_ = rec.Close()
			return nil, exit.Bad("point "+UpstreamEnv[r]+" at the real API, not at the gateway", "the %s upstream %s is the gateway itself", r, displayURL(u))
		}
	}
	tr := o.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 15 * time.Second,
		}
	}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      tr,
		FlushInterval:  -1, // flush every write: streams pass through chunk by chunk
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.errorHandler,
		ErrorLog:       stdlog.New(debugWriter{g.log}, "", 0),
	}
	g.srv = &http.Server{Handler: http.HandlerFunc(g.serve), ReadHeaderTimeout: 30 * time.Second, ErrorLog: stdlog.New(debugWriter{g.log}, "", 0),
		ConnState: g.trackConn}
	go func() { _ = g.srv.Serve(ln) }()
	stop := context.AfterFunc(ctx, func() { _ = g.Close() })
	g.stopCtx.Store(&stop)
	return g, nil
}

func parseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an http(s) URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// URL is the gateway's base URL, e.g. http://127.0.0.1:41234.
func (g *Gateway) URL() string { return g.url }

// TraceID is the trace the gateway records to.
func (g *Gateway) TraceID() string { return g.traceID }

// Upstream returns the resolved upstream of a route.
func (g *Gateway) Upstream(route string) string {
	if u := g.upstreams[route]; u != nil {
		return displayURL(u)
	}
	return ""
}

// Env returns the KEY=VALUE lines that point the official SDKs at the
// gateway: OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GOOGLE_GEMINI_BASE_URL.
func (g *Gateway) Env() []string {
	return []string{
		BaseURLEnv[RouteOpenAI] + "=" + g.url + "/" + RouteOpenAI,
		BaseURLEnv[RouteAnthropic] + "=" + g.url + "/" + RouteAnthropic,
		BaseURLEnv[RouteGemini] + "=" + g.url + "/" + RouteGemini,
	}
}

// Stats returns the counters.
func (g *Gateway) Stats() Stats {
	s := g.rec.Stats()
	return Stats{Requests: g.requests.Load(), ModelCalls: g.calls.Load(), ReceiptsWritten: s.Written, ReceiptsLost: s.Lost, ReceiptsPending: s.Pending}
}

// Close stops accepting requests, lets in-flight calls (streams included)
// finish for up to the grace period, cuts the rest, and returns once every
// receipt is durable. It reports lost receipts as an error. Safe to call
// more than once.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		if stop := g.stopCtx.Load(); stop != nil {
			(*stop)()
		}
		ctx, cancel := context.WithTimeout(context.Background(), g.grace)
		// Connections a client opened but never used (pre-dialled by a
		// connection pool) would hold Shutdown for up to 5 s: close them.
		g.srv.SetKeepAlivesEnabled(false)
		g.connMu.Lock()
		for c := range g.fresh {
			_ = c.Close()
		}
		g.connMu.Unlock()
		if err := g.srv.Shutdown(ctx); err != nil {
			g.forced.Store(true)
			_ = g.srv.Close()
		}
		cancel()
		g.inflight.Wait()
		if ci, ok := g.proxy.Transport.(interface{ CloseIdleConnections() }); ok {
			ci.CloseIdleConnections()
		}
		g.closeErr = g.rec.Close()
	})
	return g.closeErr
}

// trackConn remembers connections that have not carried a request yet.
func (g *Gateway) trackConn(c net.Conn, st http.ConnState) {
	g.connMu.Lock()
	defer g.connMu.Unlock()
	if st == http.StateNew {
		g.fresh[c] = true
	} else {
		delete(g.fresh, c)
	}
}

// route splits a request path into its route and the upstream path.
func (g *Gateway) route(path string) (route, rest string) {
	for _, r := range Routes {
		p := "/" + r
		if path == p || strings.HasPrefix(path, p+"/") {
			return r, strings.TrimPrefix(path, p)
		}
	}
	// No prefix: recognise the call itself (a client given the gateway's
	// bare URL as an OpenAI-compatible base).
	prov, _ := provider.Detect(path)
	if prov == nil {
		return "", ""
	}
	switch prov.Name() {
	case "anthropic":
		return RouteAnthropic, path
	case "google":
		return RouteGemini, path
	}
	// OpenAI base URLs end in /v1 and clients add /v1 themselves when given
	// a bare host: do not double it.
	if strings.HasSuffix(g.upstreams[RouteOpenAI].Path, "/v1") {
		path = strings.TrimPrefix(path, "/v1")
	}
	return RouteOpenAI, path
}

// escapedSuffix returns the escaped form of the unescaped path suffix rest
// of u (rest is what route() left after the prefix, /openai or /v1).
func escapedSuffix(u *url.URL, rest string) string {
	esc := u.EscapedPath()
	// The removed prefix (/openai, /anthropic, /gemini, /v1) needs no
	// escaping, so it has the same length in both forms.
	prefixLen := len(u.Path) - len(rest)
	if prefixLen < 0 || prefixLen > len(esc) {
		return (&url.URL{Path: rest}).EscapedPath()
	}
	return esc[prefixLen:]
}

var callsiteHex = lazyre.New(`^[0-9a-f]{12}$`)
var callsiteLoc = lazyre.New(`^(.+):(\d+)$`)

// callsiteFrom reads the X-Assay-Callsite header: a 12-hex callsite id, or
// "relative/path:line" which is hashed the reference's way.
func callsiteFrom(v string) string {
	v = strings.TrimSpace(v)
	if callsiteHex().MatchString(v) {
		return v
	}
	if m := callsiteLoc().FindStringSubmatch(v); m != nil {
		var line int
		fmt.Sscanf(m[2], "%d", &line)
		return capture.CallsiteID(m[1], line)
	}
	return ""
}

// HeaderCallsite is the request header that carries a callsite to the
// gateway; it is removed before the request goes upstream.
const HeaderCallsite = "X-Assay-Callsite"

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	g.inflight.Add(1)
	defer g.inflight.Done()
	g.requests.Add(1)
	route, rest := g.route(r.URL.Path)
	if route == "" {
		http.Error(w, fmt.Sprintf("assay gateway: no provider route for %s; use the /openai, /anthropic or /gemini prefix (see 'assay gateway --help')", r.URL.Path), http.StatusNotFound)
		return
	}
	up := g.upstreams[route]
	// Keep the caller's escaping (a %2F inside a model name stays one).
	target := &url.URL{Scheme: up.Scheme, Host: up.Host, Path: up.Path + rest, RawPath: up.EscapedPath() + escapedSuffix(r.URL, rest), RawQuery: r.URL.RawQuery}
	st := &reqState{target: target, route: route}
	cs := callsiteFrom(r.Header.Get(HeaderCallsite))
	r.Header.Del(HeaderCallsite)
	recorded := r.Header.Get(capture.HeaderCaptured) != ""
	r.Header.Del(capture.HeaderCaptured)
	prov := routeProvider[route]
	if api := prov.Match(rest); api != "" && r.Method == http.MethodPost && !recorded {
		g.calls.Add(1)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "assay gateway: could not read the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		// The exchange sees the upstream URL (endpoint) and the caller's
		// credentials (to scrub them from error texts); it never stores them.
		view := r.Clone(r.Context())
		view.URL = target
		st.x = capture.Begin(g.rec, capture.ExchangeOptions{
			Provider: prov, API: api, Request: view, Body: body, Source: capture.SourceGateway, Content: g.content,
			CancelMsg: "client disconnected before the response ended",
			CancelReason: func() string {
				if g.forced.Load() {
					return "gateway shut down before the response ended"
				}
				return ""
			},
		})
		st.x.Call.CallsiteID = cs
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
}

func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(ctxKey{}).(*reqState)
	t := *st.target
	pr.Out.URL = &t
	pr.Out.Host = t.Host
	// Let the transport negotiate (and undo) compression so the bytes we
	// hash are the plain response; the client gets it uncompressed.
	pr.Out.Header.Del("Accept-Encoding")
}

func (g *Gateway) modifyResponse(resp *http.Response) error {
	st := resp.Request.Context().Value(ctxKey{}).(*reqState)
	if st.x != nil {
		st.x.Observe(resp)
	}
	return nil
}

func (g *Gateway) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	st := r.Context().Value(ctxKey{}).(*reqState)
	if st.x != nil {
		st.x.Fail(err)
	}
	if r.Context().Err() != nil {
		return // the client is gone; nobody to answer
	}
	up := displayURL(g.upstreams[st.route])
	msg := oneLine(capture.TransportError(err))
	g.log.Warn().Str("route", st.route).Str("upstream", up).Str("error", msg).Msg("assay gateway: upstream unreachable")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, "assay gateway: upstream %s unreachable: %s (check %s or --upstream-%s)\n", up, msg, UpstreamEnv[st.route], st.route)
}

// debugWriter sends net/http's own log lines (aborted copies, TLS
// handshake noise) to the logger at debug level instead of raw stderr.
type debugWriter struct{ l zerolog.Logger }

func (d debugWriter) Write(p []byte) (int, error) {
	d.l.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// displayURL shows an upstream without any credentials in it.
func displayURL(u *url.URL) string {
	v := *u
	v.User = nil
	return v.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

func sinkOr(s capture.Sink, st *store.Store) capture.Sink {
	if s != nil {
		return s
	}
	return st
}
