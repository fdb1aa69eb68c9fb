// Package httpx is what assay's object-storage drivers (core/blob/gcs,
// core/blob/azure) share about talking to a storage service over HTTP:
// one error type that never carries a URL or a credential, and a request
// loop that retries what may succeed when tried again, with backoff.
package httpx

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// Error is a failed request: the operation, the object, and either the
// HTTP status with the service's error code and message or the transport
// error. It never carries a URL (an upload session's URL is a bearer
// capability, a SAS is a credential) or a request header.
type Error struct {
	Op, Key string
	Status  int
	Code    string // the service's error code (Azure's x-ms-error-code), if any
	Message string
	Err     error
}

func (e *Error) Error() string {
	what := e.Op
	if e.Key != "" {
		what += " " + strconv.Quote(e.Key)
	}
	switch {
	case e.Status != 0 && e.Message != "":
		return fmt.Sprintf("%s: HTTP %d: %s", what, e.Status, e.Message)
	case e.Status != 0 && e.Code != "":
		return fmt.Sprintf("%s: HTTP %d: %s", what, e.Status, e.Code)
	case e.Status != 0:
		return fmt.Sprintf("%s: HTTP %d %s", what, e.Status, http.StatusText(e.Status))
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", what, e.Err)
	}
	return what + ": failed"
}

func (e *Error) Unwrap() error { return e.Err }

// Code maps an error to gocloud's portable codes by HTTP status (drivers
// look at service codes first).
func Code(err error) gcerrors.ErrorCode {
	switch {
	case errors.Is(err, context.Canceled):
		return gcerrors.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return gcerrors.DeadlineExceeded
	}
	var e *Error
	if !errors.As(err, &e) {
		return gcerrors.Unknown
	}
	switch e.Status {
	case http.StatusNotFound:
		return gcerrors.NotFound
	case http.StatusPreconditionFailed:
		return gcerrors.FailedPrecondition
	case http.StatusBadRequest, http.StatusRequestedRangeNotSatisfiable:
		return gcerrors.InvalidArgument
	case http.StatusUnauthorized, http.StatusForbidden:
		return gcerrors.PermissionDenied
	case http.StatusTooManyRequests:
		return gcerrors.ResourceExhausted
	case http.StatusNotImplemented:
		return gcerrors.Unimplemented
	case http.StatusConflict:
		return gcerrors.AlreadyExists
	}
	return gcerrors.Unknown
}

// Retryable says whether a status may succeed when tried again.
func Retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// TransportErr drops the URL from a client error: an upload session's URL
// is a capability, and a signed or keyed query must not reach a message.
func TransportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Clean makes a service message one short printable line.
func Clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.TrimSpace(s)
}

// MaxErrorBody bounds what is read of a failed answer.
const MaxErrorBody = 16 << 10

// Policy is how often and how patiently a request is tried.
type Policy struct {
	// MaxAttempts bounds the tries of one request (default 6).
	MaxAttempts int
	// Backoff is the first wait between tries (default 500 ms), doubled
	// each time up to 16 s, with jitter. A Retry-After the server sends
	// is honoured up to 30 s.
	Backoff time.Duration
}

// WithDefaults fills unset fields.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.Backoff <= 0 {
		p.Backoff = 500 * time.Millisecond
	}
	return p
}

// Waiter spaces the tries of one request.
type Waiter struct {
	p    Policy
	next time.Duration
}

// Waiter starts the backoff of one request.
func (p Policy) Waiter() *Waiter { return &Waiter{p: p, next: p.Backoff} }

// Wait sleeps before the next try (at least after, the server's
// Retry-After) or returns the context's error.
func (w *Waiter) Wait(ctx context.Context, after time.Duration) error {
	d := w.next/2 + rand.N(w.next/2+1)
	d = max(d, after)
	w.next = min(w.next*2, 16*time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RetryAfter reads a Retry-After in seconds, bounded to 30 s.
func RetryAfter(resp *http.Response) time.Duration {
	s, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || s < 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, 30*time.Second)
}

// Send runs one request, built afresh by mk for every try, and returns the
// first response whose status is not retryable (any status: the caller
// judges it) or, after the last try, the last error. fail turns a failed
// answer into an error (reading a bounded part of its body and closing
// it). A response that is returned has an open body.
func (p Policy) Send(ctx context.Context, c *http.Client, op, key string, mk func() (*http.Request, error), fail func(op, key string, resp *http.Response) error) (*http.Response, error) {
	w := p.Waiter()
	for attempt := 1; ; attempt++ {
		req, err := mk()
		if err != nil {
			return nil, &Error{Op: op, Key: key, Err: err}
		}
		resp, err := c.Do(req.WithContext(ctx))
		var last error
		var after time.Duration
		switch {
		case ctx.Err() != nil:
			if resp != nil {
				resp.Body.Close()
			}
			return nil, &Error{Op: op, Key: key, Err: ctx.Err()}
		case err != nil:
			last = &Error{Op: op, Key: key, Err: TransportErr(err)}
		case Retryable(resp.StatusCode):
			after = RetryAfter(resp)
			last = fail(op, key, resp)
		default:
			return resp, nil
		}
		if attempt >= p.MaxAttempts {
			return nil, last
		}
		if err := w.Wait(ctx, after); err != nil {
			return nil, &Error{Op: op, Key: key, Err: err}
		}
	}
}

// Drain reads what is left of a body (bounded) and closes it, so the
// connection can be reused.
func Drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// Chunks buffers what a writer is given into chunks of Size bytes: each
// full chunk goes to Flush (which sends Buf) before more is taken, so the
// chunk left at Close is the last one, or the only one. It keeps the MD5
// and the length of everything written. A failed Flush sticks: every
// later Write returns its error (Err).
type Chunks struct {
	Size  int
	Flush func() error
	Buf   []byte
	N     int64
	sum   hash.Hash
	err   error
}

// Err is the error of a failed Flush, if any.
func (c *Chunks) Err() error { return c.err }

func (c *Chunks) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.sum == nil {
		c.sum = md5.New()
	}
	if c.Buf == nil {
		c.Buf = make([]byte, 0, min(c.Size, max(len(p), 64<<10)))
	}
	n := len(p)
	for len(p) > 0 {
		if len(c.Buf) == c.Size {
			if c.err = c.Flush(); c.err != nil {
				return n - len(p), c.err
			}
			c.Buf = c.Buf[:0]
		}
		k := min(len(p), c.Size-len(c.Buf))
		c.Buf = append(c.Buf, p[:k]...)
		c.sum.Write(p[:k])
		c.N += int64(k)
		p = p[k:]
	}
	return n, nil
}

// MD5 is the digest of everything written so far.
func (c *Chunks) MD5() []byte {
	if c.sum == nil {
		c.sum = md5.New()
	}
	return c.sum.Sum(nil)
}

// Reader is a driver.Reader over a response body (or nothing).
type Reader struct {
	Body  io.ReadCloser
	Attrs driver.ReaderAttributes
}

// Empty is a reader of no bytes with the given attributes.
func Empty(attrs driver.ReaderAttributes) *Reader {
	return &Reader{Body: io.NopCloser(strings.NewReader("")), Attrs: attrs}
}

func (r *Reader) Read(p []byte) (int, error)           { return r.Body.Read(p) }
func (r *Reader) Close() error                         { return r.Body.Close() }
func (r *Reader) Attributes() *driver.ReaderAttributes { return &r.Attrs }
func (r *Reader) As(any) bool                          { return false }

// Basics are the driver.Bucket methods assay's drivers answer alike: they
// expose no types of their own (As), *Error to ErrorAs, have nothing to
// close, and offer no signed URLs (assay never hands out object URLs).
type Basics struct{}

// As implements driver.Bucket.
func (Basics) As(any) bool { return false }

// ErrorAs implements driver.Bucket: *Error.
func (Basics) ErrorAs(err error, target any) bool {
	p, ok := target.(**Error)
	return ok && errors.As(err, p)
}

// Close implements driver.Bucket.
func (Basics) Close() error { return nil }

// SignedURL implements driver.Bucket: not offered.
func (Basics) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", &Error{Op: "sign URL", Status: http.StatusNotImplemented, Message: "signed URLs are not supported"}
}

// SameHost returns a copy of c that follows no redirect to another host:
// a storage client carries credentials (a bearer token its transport adds
// to every request, whatever the host), and the service never sends its
// objects elsewhere. Such a redirect's response is returned as it is, and
// the driver reports its status.
func SameHost(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cp := *c
	next := c.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}
