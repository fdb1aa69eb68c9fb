package otlpout

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/version"
)

var readFile = os.ReadFile

// Exporter sends batches of spans to one OTLP/HTTP traces endpoint, the
// way the official exporter did: protobuf or JSON, optional gzip, the
// configured headers, retries on 429/502/503/504 and connection errors
// with exponential backoff (Retry-After honoured) within the timeout.
type Exporter struct {
	cfg  config
	res  Resource
	http *http.Client
}

// NewExporter returns the OTLP/HTTP exporter for o (bad options or
// variables: exit 3).
func NewExporter(_ context.Context, o Options) (*Exporter, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.tls != nil {
		tr.TLSClientConfig = cfg.tls
	}
	return &Exporter{cfg: cfg, res: Resource{Service: o.Service}, http: &http.Client{Transport: tr}}, nil
}

// Close releases the exporter's idle connections.
func (e *Exporter) Close() { e.http.CloseIdleConnections() }

// maxResponse bounds what is read of any answer (a partial success is a
// few bytes; an error page is shown as a short snippet).
const maxResponse = 64 << 10

// maxRetrying bounds the retries of one batch when no timeout does (the
// official exporter's MaxElapsedTime).
const maxRetrying = time.Minute

// snippetLen bounds the body quoted in an error.
const snippetLen = 200

// Send exports spans in one request and waits until the endpoint accepted
// them. rejected is the endpoint's partial success (spans it refused),
// with its message sanitised.
func (e *Exporter) Send(ctx context.Context, spans []*SpanData) (rejected int64, msg string, err error) {
	if len(spans) == 0 {
		return 0, "", nil
	}
	var body []byte
	ctype := "application/x-protobuf"
	if e.cfg.json {
		body, ctype = encodeJSON(e.res, spans), "application/json"
	} else {
		body = encodeProto(e.res, spans)
	}
	if e.cfg.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return 0, "", err
		}
		body = b.Bytes()
	}
	if e.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.timeout)
		defer cancel()
	}
	wait := e.cfg.retryMin
	first := time.Now()
	for attempt := 1; ; attempt++ {
		ps, retry, after, err := e.post(ctx, body, ctype)
		if err == nil {
			return ps.Rejected, sanitize(ps.Message), nil
		}
		if !retry || ctx.Err() != nil {
			return 0, "", err
		}
		// Backoff with jitter (±50%, as the official exporter), or what
		// Retry-After asks; give up now if that would pass the deadline.
		d := wait/2 + rand.N(wait+1)
		if after > 0 {
			d = after
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return 0, "", fmt.Errorf("%w (gave up after %d attempts: the next retry, in %s, would pass the deadline)", err, attempt, d.Round(time.Millisecond))
		}
		if time.Since(first)+d > maxRetrying {
			return 0, "", fmt.Errorf("%w (gave up after %d attempts in %s)", err, attempt, time.Since(first).Round(time.Second))
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, "", fmt.Errorf("%w (gave up after %d attempts: %v)", err, attempt, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*3/2, e.cfg.retryMax)
	}
}

// post makes one attempt. retry says whether the failure is worth another
// (429, 502, 503, 504, a connection error), after what Retry-After asked.
func (e *Exporter) post(ctx context.Context, body []byte, ctype string) (ps partialSuccess, retry bool, after time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.url, bytes.NewReader(body))
	if err != nil {
		return ps, false, 0, fmt.Errorf("OTLP request to %s: %v", redactURL(e.cfg.url), err)
	}
	for _, h := range e.cfg.headers {
		req.Header.Set(h[0], h[1])
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "assay/"+version.Version+" (OTLP/HTTP exporter)")
	if e.cfg.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := e.http.Do(req)
	if err != nil {
		// A connection error is retried, unless it is a certificate the
		// endpoint will present again. The message names the URL (never
		// a header); drop user info.
		var cv *tls.CertificateVerificationError
		retry := ctx.Err() == nil && !errors.As(err, &cv)
		return ps, retry, 0, fmt.Errorf("sending to the OTLP endpoint %s: %v", redactURL(e.cfg.url), unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if len(b) == 0 {
			return ps, false, 0, nil
		}
		switch mediaType(resp.Header.Get("Content-Type")) {
		case "application/x-protobuf", "application/protobuf":
			ps, _ = decodeResponseProto(b)
		case "application/json":
			ps, _ = decodeResponseJSON(b)
		}
		return ps, false, 0, nil
	}
	snip := ""
	if mt := mediaType(resp.Header.Get("Content-Type")); mt == "application/x-protobuf" || mt == "application/protobuf" {
		if m, ok := rpcStatusMessage(b); ok {
			snip = sanitize(m)
		}
	}
	if snip == "" {
		snip = sanitize(string(b))
	}
	if snip == "" {
		snip = "(empty body)"
	}
	err = fmt.Errorf("the OTLP endpoint %s answered %s: %s", redactURL(e.cfg.url), resp.Status, snip)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ps, true, retryAfter(resp.Header.Get("Retry-After")), err
	}
	return ps, false, 0, err
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if in := ue.Unwrap(); in != nil {
			return in
		}
	}
	return err
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// retryAfter reads a Retry-After header: seconds or an HTTP date (0 when
// absent or unreadable), capped at an hour.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		return min(time.Duration(min(s, 3600))*time.Second, time.Hour)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), time.Hour)
	}
	return 0
}

// sanitize makes an endpoint's text fit one line of a message: control
// characters and invalid UTF-8 dropped, blanks collapsed, key-shaped
// strings redacted, at most snippetLen bytes.
func sanitize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == '\uFFFD' || (unicode.IsControl(r) && !unicode.IsSpace(r)) {
			continue
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		if b.Len() > 4*snippetLen {
			break
		}
	}
	out := receipt.SecretPattern().ReplaceAllString(b.String(), "[redacted]")
	if len(out) > snippetLen {
		cut := snippetLen
		for cut > 0 && !utf8RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
