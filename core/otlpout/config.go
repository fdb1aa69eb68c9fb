package otlpout

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

// The OTLP exporter variables (specification/protocol/exporter.md), read
// as the official Go OTLP/HTTP exporter reads them: the TRACES_ variant of
// each wins over the generic one. Unlike the official exporter, a bad
// value is refused (exit 3) instead of logged and ignored.
const (
	envPrefix       = "OTEL_EXPORTER_OTLP_"
	envTracesPrefix = "OTEL_EXPORTER_OTLP_TRACES_"
)

// config is what one exporter sends where and how.
type config struct {
	url      string // full traces URL
	json     bool
	gzip     bool
	timeout  time.Duration // per batch, retries included; 0 = none
	headers  [][2]string   // in the order given; values are secrets
	tls      *tls.Config   // nil = Go's defaults
	retryMin time.Duration // first backoff
	retryMax time.Duration // longest backoff
}

const (
	defaultTimeout  = 10 * time.Second
	defaultEndpoint = "https://localhost:4318/v1/traces" // the official default (no endpoint set)
	retryInitial    = 5 * time.Second
	retryMaxBackoff = 30 * time.Second
)

// lookup returns the TRACES_ variable for name if set, else the generic
// one, trimmed, with the variable it came from.
func lookup(g func(string) string, name string) (val, key string) {
	for _, k := range []string{envTracesPrefix + name, envPrefix + name} {
		if v := strings.TrimSpace(g(k)); v != "" {
			return v, k
		}
	}
	return "", ""
}

// config resolves o and the environment into a config; bad input is an
// exit.Bad naming the variable (never a header value).
func (o Options) config() (config, error) {
	g := o.getenv()
	c := config{timeout: defaultTimeout, retryMin: retryInitial, retryMax: retryMaxBackoff}
	if o.retryMin > 0 {
		c.retryMin, c.retryMax = o.retryMin, max(o.retryMin, o.retryMin*6)
	}

	// Endpoint: the option, else the per-signal URL as is, else the base
	// URL with /v1/traces joined to its path.
	switch {
	case o.Endpoint != "":
		u, err := tracesURL(o.Endpoint)
		if err != nil {
			return c, err
		}
		c.url = u
	case strings.TrimSpace(g(envTracesPrefix+"ENDPOINT")) != "":
		u, err := envURL(envTracesPrefix+"ENDPOINT", strings.TrimSpace(g(envTracesPrefix+"ENDPOINT")))
		if err != nil {
			return c, err
		}
		if u.Path == "" {
			u.Path = "/"
		}
		c.url = u.String()
	case strings.TrimSpace(g(envPrefix+"ENDPOINT")) != "":
		u, err := envURL(envPrefix+"ENDPOINT", strings.TrimSpace(g(envPrefix+"ENDPOINT")))
		if err != nil {
			return c, err
		}
		u.Path = path.Join(u.Path, "/v1/traces")
		u.RawPath = ""
		c.url = u.String()
	default:
		c.url = defaultEndpoint
	}

	if v, k := lookup(g, "PROTOCOL"); v != "" {
		switch v {
		case "http/protobuf":
		case "http/json":
			c.json = true
		default:
			return c, errProtocol(k, v)
		}
	}
	if o.JSON {
		c.json = true
	}

	if v, k := lookup(g, "COMPRESSION"); v != "" {
		switch v {
		case "gzip":
			c.gzip = true
		case "none":
		default:
			return c, exit.Bad("set it to gzip or none", "%s=%s is not supported", k, v)
		}
	}

	if v, k := lookup(g, "TIMEOUT"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 || ms > int64(24*time.Hour/time.Millisecond) {
			return c, exit.Bad("give milliseconds, e.g. "+k+"=10000 (0 = no limit)", "%s=%s is not a timeout in milliseconds", k, v)
		}
		c.timeout = time.Duration(ms) * time.Millisecond
	}

	if v, k := lookup(g, "HEADERS"); v != "" {
		h, err := parseHeaders(k, v)
		if err != nil {
			return c, err
		}
		c.headers = h
	}

	if err := o.tlsConfig(&c); err != nil {
		return c, err
	}
	return c, nil
}

func errProtocol(k, v string) error {
	return exit.Bad("set it to http/protobuf or http/json (assay exports over OTLP/HTTP)", "%s=%s is not supported", k, v)
}

// envURL parses an endpoint variable.
func envURL(k, v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, exit.Bad("give an http:// or https:// URL, e.g. "+k+"=http://127.0.0.1:4318", "%s=%s is not an http:// or https:// URL", k, redactURL(v))
	}
	return u, nil
}

// parseHeaders reads k1=v1,k2=v2 (values URL-decoded, both trimmed; empty
// entries skipped). Errors name the entry by position, never its value.
func parseHeaders(k, v string) ([][2]string, error) {
	var out [][2]string
	for i, entry := range strings.Split(v, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		name, val, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok || !validHeaderKey(name) {
			return nil, exit.Bad("write it as key=value pairs separated by commas, e.g. "+k+"=x-api-key=KEY", "%s: entry %d is not key=value with a valid header name", k, i+1)
		}
		dec, err := url.PathUnescape(val)
		if err != nil {
			return nil, exit.Bad("percent-encode special characters in the value (%XX)", "%s: the value of %s is not valid percent-encoding", k, name)
		}
		dec = strings.TrimSpace(dec)
		if strings.ContainsAny(dec, "\r\n\x00") {
			return nil, exit.Bad("remove line breaks and NUL from the value", "%s: the value of %s has a line break or NUL", k, name)
		}
		out = append(out, [2]string{name, dec})
	}
	return out, nil
}

// validHeaderKey reports whether s is an HTTP token (RFC 9110).
func validHeaderKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// tlsConfig reads the CA and client certificate variables.
func (o Options) tlsConfig(c *config) error {
	g := o.getenv()
	read := o.readFile
	if read == nil {
		read = readFile
	}
	var tc *tls.Config
	if v, k := lookup(g, "CERTIFICATE"); v != "" {
		b, err := read(v)
		if err != nil {
			return exit.Bad("point "+k+" at a readable PEM file of CA certificates", "%s: cannot read %s", k, v)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return exit.Bad("point "+k+" at a PEM file of CA certificates", "%s: %s holds no PEM certificate", k, v)
		}
		tc = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	// The TRACES_ pair wins when both of its variables are set, as in the
	// official exporter; a pair with one half is bad input.
	for _, p := range []string{envTracesPrefix, envPrefix} {
		cv, kv := strings.TrimSpace(g(p+"CLIENT_CERTIFICATE")), strings.TrimSpace(g(p+"CLIENT_KEY"))
		if cv == "" && kv == "" {
			continue
		}
		if cv == "" || kv == "" {
			return exit.Bad("set both "+p+"CLIENT_CERTIFICATE and "+p+"CLIENT_KEY, or neither", "mTLS needs a client certificate and its key")
		}
		cb, err := read(cv)
		if err != nil {
			return exit.Bad("point it at a readable PEM file", "%sCLIENT_CERTIFICATE: cannot read %s", p, cv)
		}
		kb, err := read(kv)
		if err != nil {
			return exit.Bad("point it at a readable PEM file", "%sCLIENT_KEY: cannot read %s", p, kv)
		}
		crt, err := tls.X509KeyPair(cb, kb)
		if err != nil {
			return exit.Bad("give a PEM certificate and its matching PEM private key", "%sCLIENT_CERTIFICATE/%sCLIENT_KEY are not a usable certificate and key", p, p)
		}
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tc.Certificates = []tls.Certificate{crt}
		break
	}
	c.tls = tc
	return nil
}
