package capture

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/capture/provider"
)

// MaxCapture bounds the copy of a response kept for hashing. Beyond it the
// bytes still pass through, but the text is not hashed (output_hash null)
// and the receipt says why in its error.
const MaxCapture = 64 << 20

// Exchange follows one recognised HTTP call to its end and records it.
type Exchange struct {
	Call      *Call
	prov      provider.Provider
	rec       *Recorder
	ctx       context.Context
	cancelMsg string
	reason    func() string
	once      sync.Once
}

// cancelText is the error of a call whose context ended first.
func (x *Exchange) cancelText() string {
	msg := x.cancelMsg
	if x.reason != nil {
		if r := x.reason(); r != "" {
			msg = r
		}
	}
	return msg + ": " + x.ctx.Err().Error()
}

// ExchangeOptions describe a call about to be sent.
type ExchangeOptions struct {
	Provider  provider.Provider
	API       string
	Request   *http.Request // the outgoing request (URL = the real upstream)
	Body      []byte        // the request body as sent
	Source    string        // integration_source
	Content   bool          // store prompts and answers (opt-in)
	CancelMsg string        // error text when ctx ends before the response does
	// CancelReason, when set, overrides CancelMsg at the moment the call
	// ends (e.g. "gateway shut down" rather than a client disconnect).
	CancelReason func() string
}

// Begin starts an exchange; the clock starts now.
func Begin(rec *Recorder, o ExchangeOptions) *Exchange {
	req := o.Request
	c := &Call{Start: time.Now(), Source: o.Source, StoreContent: o.Content}
	c.Req = o.Provider.ParseRequest(o.API, req.URL.Path, req.URL.Query(), o.Body)
	c.Endpoint = CleanEndpoint(req.URL)
	c.Hint = HintFor(req.URL)
	c.SecretsFrom(req.Header, req.URL.Query())
	msg := o.CancelMsg
	if msg == "" {
		msg = "request cancelled before the response ended"
	}
	return &Exchange{Call: c, prov: o.Provider, rec: rec, ctx: req.Context(), cancelMsg: msg, reason: o.CancelReason}
}

// Fail records a call that got no response at all.
func (x *Exchange) Fail(err error) {
	x.once.Do(func() {
		x.Call.End = time.Now()
		if x.ctx.Err() != nil {
			x.Call.Err = x.cancelText()
		} else {
			x.Call.Err = "upstream unreachable: " + TransportError(err)
		}
		x.rec.Record(x.Call)
	})
}

// TransportError is the text of a failed round trip without the request
// URL (which may carry ?key=...): the inner error of a *url.Error.
func TransportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// Observe replaces resp.Body with a pass-through that keeps a copy and
// records the call when the body ends (EOF, read error or Close).
func (x *Exchange) Observe(resp *http.Response) {
	x.Call.Status = resp.StatusCode
	ct := resp.Header.Get("Content-Type")
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	resp.Body = &observed{rc: resp.Body, end: func(raw []byte, over bool, eof bool, rerr error) {
		x.finish(ct, decoded(enc, raw), over, eof, rerr)
	}}
}

func (x *Exchange) finish(ct string, raw []byte, over, eof bool, rerr error) {
	x.once.Do(func() {
		c := x.Call
		c.End = time.Now()
		if c.Status >= 400 {
			c.Resp = provider.Response{Error: "HTTP " + strconv.Itoa(c.Status) + ": " + provider.ErrorText(raw)}
		} else {
			c.Resp = x.prov.ParseResponse(c.Req, ct, raw)
		}
		switch {
		case rerr != nil && x.ctx.Err() != nil:
			c.Err = x.cancelText()
		case rerr != nil:
			c.Err = "response cut short: " + rerr.Error()
		case !eof && !c.Resp.Complete && c.Status < 400:
			if x.ctx.Err() != nil {
				c.Err = x.cancelText()
			} else {
				c.Err = "response body closed before the response ended"
			}
		}
		if over {
			c.Resp.HasText = false
			if c.Err == "" {
				c.Err = "response larger than the capture limit; text not hashed"
			}
		}
		x.rec.Record(c)
	})
}

// decoded undoes a compressed response copy (SDKs that ask for gzip
// themselves get it raw from the transport). What cannot be decoded is
// returned as is, and then simply does not parse.
func decoded(enc string, raw []byte) []byte {
	var r io.Reader
	switch enc {
	case "", "identity":
		return raw
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return raw
		}
		r = zr
	case "deflate":
		r = flate.NewReader(bytes.NewReader(raw))
	default:
		return raw
	}
	// A stream cut short decodes as far as it got.
	out, _ := io.ReadAll(r)
	return out
}

// observed is a response body that keeps a copy of what passes through.
type observed struct {
	rc   io.ReadCloser
	mu   sync.Mutex
	buf  bytes.Buffer
	over bool
	done bool
	end  func(raw []byte, over, eof bool, err error)
}

func (o *observed) Read(p []byte) (int, error) {
	n, err := o.rc.Read(p)
	o.mu.Lock()
	if n > 0 && !o.done {
		if o.buf.Len()+n <= MaxCapture {
			o.buf.Write(p[:n])
		} else {
			o.over = true
		}
	}
	var fire func()
	if err != nil && !o.done {
		o.done = true
		raw, over := o.buf.Bytes(), o.over
		if errors.Is(err, io.EOF) {
			fire = func() { o.end(raw, over, true, nil) }
		} else {
			fire = func() { o.end(raw, over, false, err) }
		}
	}
	o.mu.Unlock()
	if fire != nil {
		fire()
	}
	return n, err
}

func (o *observed) Close() error {
	err := o.rc.Close()
	o.mu.Lock()
	var fire func()
	if !o.done {
		o.done = true
		raw, over := o.buf.Bytes(), o.over
		fire = func() { o.end(raw, over, false, nil) }
	}
	o.mu.Unlock()
	if fire != nil {
		fire()
	}
	return err
}
