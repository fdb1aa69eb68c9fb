package tools

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/mark3labs/mcp-go/server"
)

// HTTPOptions secure the streamable HTTP transport.
type HTTPOptions struct {
	// Token, when set, is required as "Authorization: Bearer <token>" on every
	// request. It is mandatory on non-loopback binds (see ServeHTTP).
	Token string
	// AllowedOrigins are extra browser origins (scheme://host[:port]) allowed
	// besides the loopback ones.
	AllowedOrigins []string
}

// EndpointPath is where the MCP endpoint is mounted.
const EndpointPath = "/mcp"

// HTTPHandler returns the MCP endpoint behind the Origin allowlist (403 on a
// foreign Origin: mcp-go checks Host but not Origin) and the bearer-token
// check (401). Requests without an Origin (non-browser clients) pass the
// Origin check.
func (s *Server) HTTPHandler(opt HTTPOptions) http.Handler {
	h := server.NewStreamableHTTPServer(s.MCP,
		server.WithEndpointPath(EndpointPath),
		// The default session manager: handshake-era clients get an
		// Mcp-Session-Id (never validated, so any replica can serve them),
		// which keys their own trace.
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
		mux.ServeHTTP(w, r)
	})
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
