package tools

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/assay-dev/assay/core/jsonrpc"
)

// HTTPOptions secure the streamable HTTP transport.
type HTTPOptions struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on every
	// request. It is mandatory on non-loopback binds (see ServeHTTP).
	Token string
	// AllowedOrigins are extra browser origins (scheme://host[:port]) allowed
	// besides the loopback ones.
	AllowedOrigins []string
	// MaxBody caps a request body in bytes (0: DefaultMaxBody). A larger
	// body is refused with 413 and a JSON-RPC error before any work.
	MaxBody int64
	// MaxSessions bounds the live handshake-era sessions (0:
	// DefaultMaxSessions); past it the least recently used one is ended
	// and packed.
	MaxSessions int
	// Timeouts of NewHTTPServer's http.Server against slow clients (0: the
	// defaults below). There is deliberately no write timeout: SSE streams
	// are long-lived.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
}

// Defaults of HTTPOptions.
const (
	DefaultMaxBody           = 4 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// EndpointPath is where the MCP endpoint is mounted.
const EndpointPath = "/mcp"

// HTTPHandler returns the MCP endpoint behind, in order: the Origin
// allowlist (403 on a foreign Origin: mcp-go checks Host but not Origin),
// the bearer-token check (401), the body cap (413), the JSON-RPC envelope
// check (400 with a JSON-RPC error), and the session check (404 for an
// unknown or ended Mcp-Session-Id). Requests without an Origin
// (non-browser clients) pass the Origin check. Call it once per Server.
func (s *Server) HTTPHandler(opt HTTPOptions) http.Handler {
	// One HTTP server serves many clients: the roots are the operator's
	// (--root, else the working directory), never one client's roots/list
	// answer, which would change them for every other session.
	s.roots.pin()
	sessions := newHTTPSessions(s, opt.MaxSessions)
	s.httpSess.Store(sessions)
	maxBody := opt.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	h := server.NewStreamableHTTPServer(s.MCP,
		server.WithEndpointPath(EndpointPath),
		// Handshake-era clients get an Mcp-Session-Id from our registry,
		// which validates it and keys their own trace; sessionless
		// (2026-07-28) requests share the process's trace.
		server.WithSessionIdManager(sessions),
		server.WithStreamableHTTPLogger(s.slog()),
	)
	mux := http.NewServeMux()
	mux.Handle(EndpointPath, h)
	allowed := map[string]bool{}
	for _, o := range opt.AllowedOrigins {
		allowed[strings.TrimRight(strings.ToLower(o), "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !originAllowed(o, allowed) {
			s.log.Warn().Str("origin", o).Msg("http: foreign Origin refused")
			http.Error(w, "forbidden: Origin "+o+" is not allowed (start assay-mcp with --allowed-origin to allow it)", http.StatusForbidden)
			return
		}
		if opt.Token != "" && !bearerOK(r.Header.Get("Authorization"), opt.Token) {
			s.log.Warn().Str("remote", r.RemoteAddr).Msg("http: missing or wrong bearer token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="assay-mcp"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <token> (the --token or ASSAY_MCP_TOKEN value)", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != EndpointPath {
			mux.ServeHTTP(w, r)
			return
		}
		var msg *jsonrpc.Message
		if r.Method == http.MethodPost {
			b, err := ReadBody(w, r, maxBody)
			if err != nil {
				var tl *BodyTooLargeError
				if errors.As(err, &tl) {
					s.log.Warn().Int64("max_body", maxBody).Str("remote", r.RemoteAddr).Msg("http: request body too large, refused")
					s.recordOversized(r.Context(), r.Header.Get(server.HeaderKeySessionID), tl)
					writeJSONRPCError(w, http.StatusRequestEntityTooLarge, mcp.INVALID_REQUEST, tl.Error())
					return
				}
				s.log.Warn().Err(err).Str("remote", r.RemoteAddr).Msg("http: cannot read the request body")
				writeJSONRPCError(w, http.StatusBadRequest, mcp.PARSE_ERROR, "cannot read the request body: "+err.Error())
				return
			}
			// One message, checked exactly (DECISIONS 21); mcp-go gets what
			// was re-encoded from the checked message, never the sender's
			// bytes, so it cannot read a case variant or a duplicate the
			// check did not see.
			m, err := jsonrpc.Decode(b)
			if err != nil {
				var je *jsonrpc.Error
				if !errors.As(err, &je) {
					writeJSONRPCError(w, http.StatusBadRequest, mcp.INVALID_REQUEST, err.Error())
					return
				}
				s.log.Warn().Str("reason", string(je.Reason)).Str("detail", je.Detail).Str("remote", r.RemoteAddr).Msg("http: JSON-RPC message refused")
				s.recordRefusals(r.Context(), r.Header.Get(server.HeaderKeySessionID), b, je)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write(append(je.Response(), '\n'))
				return
			}
			msg = m
			body := msg.Encode()
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Del("Content-Length")
		}
		s.serveSession(w, r, msg, sessions, h)
	})
}

// serveSession applies the session rules of the handshake era (MCP
// streamable HTTP, Mcp-Session-Id) before mcp-go sees the request:
// a session id must be live (404 otherwise, so the client initializes
// anew), GET and DELETE need one (400), and DELETE ends the session and
// packs its trace. Sessionless (2026-07-28) requests carry no session.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, msg *jsonrpc.Message, sessions *httpSessions, h http.Handler) {
	// Only a known 2026-07-28-era version goes without a session: a string
	// that merely sorts after it ("9999", "z") gets the handshake rules.
	if v := r.Header.Get(mcp.HeaderProtocolVersion); mcp.IsValidProtocolVersion(v) && mcp.IsModernProtocol(v) {
		h.ServeHTTP(w, r)
		return
	}
	key := r.Header.Get(server.HeaderKeySessionID)
	switch r.Method {
	case http.MethodPost:
		if msg != nil && msg.Method == string(mcp.MethodInitialize) {
			h.ServeHTTP(w, r) // initialize makes a new session
			return
		}
		if key == "" {
			// A tools/call with no session comes before any initialize:
			// refused and receipted, never served (as over stdio).
			if tc, ok := msg.ToolCall(); ok {
				s.refuseCall(s.session, msg, tc.Name, "before_initialize: no "+server.HeaderKeySessionID+"; initialize a session first")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write(append(jsonrpc.ErrorResponse(msg.ID, jsonrpc.CodeInvalidRequest, "tools/call before initialize: send initialize first, then use its "+server.HeaderKeySessionID), '\n'))
				return
			}
			// Anything else without an id is refused by mcp-go through
			// sessions.Validate.
			h.ServeHTTP(w, r)
			return
		}
	case http.MethodGet, http.MethodDelete:
		if key == "" {
			writeJSONRPCError(w, http.StatusBadRequest, mcp.INVALID_REQUEST, "missing "+server.HeaderKeySessionID+" header: initialize a session first")
			return
		}
	default:
		h.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodDelete {
		dir, ok, err := sessions.end(key, EndedByClient, "")
		if !ok {
			writeUnknownSession(w)
			return
		}
		if err != nil {
			// The session has ended and its receipts are kept in its trace,
			// but the pack is missing: say so rather than answer 200.
			h.ServeHTTP(discard{}, r) // mcp-go's own clean-up
			writeJSONRPCError(w, http.StatusInternalServerError, mcp.INTERNAL_ERROR, "session ended, but its trace could not be packed: "+err.Error())
			return
		}
		s.log.Info().Str("pack", dir).Msg("HTTP session ended by the client")
		h.ServeHTTP(w, r)
		return
	}
	_, ctx, release, ok := sessions.acquire(r.Context(), key)
	if !ok {
		if msg != nil {
			if tc, isCall := msg.ToolCall(); isCall {
				s.refuseCall(s.session, msg, tc.Name, "unknown_session: an unknown or ended "+server.HeaderKeySessionID)
			}
		}
		writeUnknownSession(w)
		return
	}
	defer release()
	h.ServeHTTP(w, r.WithContext(ctx))
}

// discard is a ResponseWriter that drops the response.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func writeUnknownSession(w http.ResponseWriter) {
	writeJSONRPCError(w, http.StatusNotFound, mcp.INVALID_REQUEST, "unknown or ended session: send initialize (without "+server.HeaderKeySessionID+") to start a new one")
}

// BodyTooLargeError is a request body over the cap. Prefix holds its start
// (at most refusalPrefix bytes), so the refusal can be receipted under the
// tool it names, as the stdio server and the proxy do.
type BodyTooLargeError struct {
	Max    int64
	Prefix []byte
}

// refusalPrefix is how much of an oversized body is kept to name its tool.
const refusalPrefix = 64 << 10

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("request body exceeds %d bytes; send smaller messages, or restart assay-mcp with a larger --max-body", e.Max)
}

// ReadBody reads a request body of at most max bytes. A declared
// Content-Length over the cap is refused after reading only its start (to
// name the tool in the refusal's receipt); a body that turns out longer
// (chunked) is cut off at max+1 bytes. The
// connection is closed after a refusal, so the rest is never read.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > max {
		// Only the start is read, to name the tool in the refusal's receipt.
		p, _ := io.ReadAll(io.LimitReader(r.Body, min(max, refusalPrefix)))
		return nil, &BodyTooLargeError{Max: max, Prefix: p}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &BodyTooLargeError{Max: max, Prefix: b[:min(len(b), refusalPrefix)]}
	}
	return b, err
}

// writeJSONRPCError answers with a JSON-RPC error (id null: the message
// was not read) and an HTTP status.
func writeJSONRPCError(w http.ResponseWriter, status, code int, msg string) {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": nil,
		"error": map[string]any{"code": code, "message": msg},
	})
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusRequestEntityTooLarge || status == http.StatusBadRequest {
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// NewHTTPServer returns the http.Server for HTTPHandler(opt), with the
// read timeouts against slow clients: ReadHeaderTimeout bounds the headers
// (slowloris), ReadTimeout the whole request with its body, IdleTimeout a
// kept-alive connection between requests. No WriteTimeout: it would cut
// the long-lived SSE streams (GET and streamed POST responses).
func (s *Server) NewHTTPServer(opt HTTPOptions, errorLog *stdlog.Logger) *http.Server {
	d := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	hs := &http.Server{
		Handler:           s.HTTPHandler(opt),
		ReadHeaderTimeout: d(opt.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       d(opt.ReadTimeout, DefaultReadTimeout),
		IdleTimeout:       d(opt.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errorLog,
	}
	// Shutdown waits for handlers, and an SSE stream never ends by
	// itself: ending the sessions (which cancels their requests) lets it
	// finish, and packs each session's trace.
	hs.RegisterOnShutdown(s.EndHTTPSessions)
	return hs
}

// EndHTTPSessions ends every live HTTP session and packs its trace, and
// returns once every session end in progress is done (NewHTTPServer's
// server calls it when it shuts down). Each session_metadata receipt marks
// the session incomplete: the client did not end it.
func (s *Server) EndHTTPSessions() {
	if h := s.httpSess.Load(); h != nil {
		h.endAll("the server shut down before the client ended the session")
	}
}

// ParseSize reads a byte size: a plain number of bytes, or a number with
// a unit (KiB, MiB, GiB; KB, MB, GB are read as the binary units too).
func ParseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("size %q: give a positive number of bytes, e.g. 4194304 or 4MiB", v)
	}
	return n * mult, nil
}

// originAllowed accepts loopback origins on any port and the allowlist.
func originAllowed(origin string, allowed map[string]bool) bool {
	o := strings.TrimRight(strings.ToLower(origin), "/")
	if allowed[o] {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return IsLoopbackHost(u.Hostname())
}

func bearerOK(h, token string) bool {
	const p = "Bearer "
	if len(h) < len(p) || !strings.EqualFold(h[:len(p)], p) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(h[len(p):])), []byte(token)) == 1
}

// IsLoopbackHost reports whether host (no port) names the loopback interface.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
