// Package gcs is a gocloud.dev/blob driver for Google Cloud Storage that
// speaks the JSON API over net/http.
//
// It exists for start-up time. Google's client library
// (cloud.google.com/go/storage, what gocloud's gcsblob drives) links gRPC,
// xDS and Cloud Monitoring, whose package init and size cost every start of
// the assay binary about 27 ms, although only a gs:// URL needs any of it.
// This driver covers what assay does with a bucket: whole and ranged reads,
// writes (one multipart request for a small object, a resumable session in
// chunks for a large one) with an optional does-not-exist precondition,
// listing, attributes, copy and delete. Like Google's libraries it retries
// what is safe to retry: reads and listings, each chunk of a resumable
// upload (asking the session what it holds first), and whole-object writes,
// which here always carry the same bytes. Keys are escaped as gcsblob
// escapes them, so a bucket written by either reads the same with the other.
package gcs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"github.com/assay-dev/assay/core/blob/internal/escape"
	"github.com/assay-dev/assay/core/blob/internal/httpx"
)

// DefaultEndpoint is Cloud Storage's API.
const DefaultEndpoint = "https://storage.googleapis.com"

// Options configure a bucket.
type Options struct {
	// Client sends every request and adds the credentials (an oauth2
	// client), or none (an emulator). nil is http.DefaultClient.
	Client *http.Client
	// Endpoint is the API's base URL (scheme and host; default
	// DefaultEndpoint). An emulator's is http://HOST:PORT.
	Endpoint string
	// ChunkSize is the size of one request of a resumable upload, rounded
	// up to a multiple of 256 KiB (default 16 MiB); an object that fits in
	// one chunk goes up in a single multipart request.
	ChunkSize int
	// Retry says how often and how patiently a request is tried
	// (default: 6 tries, backoff from 500 ms doubling to 16 s).
	Retry httpx.Policy
}

const (
	chunkQuantum     = 256 << 10
	defaultChunkSize = 16 << 20
	maxMetaBody      = 4 << 20 // one object's metadata or one list page
	defaultPageSize  = 1000
)

// OpenBucket returns a bucket reached through o. Nothing is sent until it
// is used.
func OpenBucket(bucket string, o Options) (*gcblob.Bucket, error) {
	b, err := openBucket(bucket, o)
	if err != nil {
		return nil, err
	}
	return gcblob.NewBucket(b), nil
}

func openBucket(name string, o Options) (*bucket, error) {
	if !validBucket(name) {
		return nil, fmt.Errorf("invalid Cloud Storage bucket name %q: use 3 to 222 lower-case letters, digits, '-', '_' and '.'", name)
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	ep, err := url.Parse(o.Endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" || ep.User != nil || ep.RawQuery != "" {
		return nil, fmt.Errorf("invalid Cloud Storage endpoint: give http(s)://HOST[:PORT]")
	}
	o.Client = httpx.SameHost(o.Client)
	if o.ChunkSize <= 0 {
		o.ChunkSize = defaultChunkSize
	}
	o.ChunkSize = (o.ChunkSize + chunkQuantum - 1) / chunkQuantum * chunkQuantum
	o.Retry = o.Retry.WithDefaults()
	base := ep.Scheme + "://" + ep.Host + strings.TrimSuffix(ep.Path, "/")
	return &bucket{name: name, opt: o, origin: ep.Scheme + "://" + ep.Host, base: base}, nil
}

// validBucket accepts Cloud Storage's bucket names, which never need
// escaping in a URL path.
func validBucket(s string) bool {
	if len(s) < 3 || len(s) > 222 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

type bucket struct {
	httpx.Basics
	name   string
	opt    Options
	origin string // scheme://host of the endpoint; upload sessions must stay on it
	base   string // origin plus any path prefix
}

// escapeKey is gcsblob's: GCS refuses CR and LF in names, and "../" would
// be taken as a path step by some tools.
func escapeKey(key string) string {
	return escape.HexEscape(key, func(r []rune, i int) bool {
		switch {
		case r[i] == 10 || r[i] == 13:
			return true
		case i > 1 && r[i] == '/' && r[i-1] == '.' && r[i-2] == '.':
			return true
		}
		return false
	})
}

// noName is the error for an empty key: no object has one, and the URL of
// an empty name is the bucket's listing.
func noName(op string) error {
	return &Error{Op: op, Status: http.StatusBadRequest, Message: "an object needs a name"}
}

func (b *bucket) objectURL(key string) string {
	return b.base + "/storage/v1/b/" + b.name + "/o/" + url.PathEscape(escapeKey(key))
}

// Error is a failed request (it never carries a URL or a credential).
type Error = httpx.Error

// ErrorCode implements driver.Bucket.
func (b *bucket) ErrorCode(err error) gcerrors.ErrorCode { return httpx.Code(err) }

// apiError reads (a bounded part of) a failed response and closes it.
func apiError(op, key string, resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxErrorBody))
	var doc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &doc) == nil {
		msg = doc.Error.Message
	}
	return &Error{Op: op, Key: key, Status: resp.StatusCode, Message: httpx.Clean(msg)}
}

// send runs a request with the bucket's retry policy.
func (b *bucket) send(ctx context.Context, op, key string, mk func() (*http.Request, error)) (*http.Response, error) {
	return b.opt.Retry.Send(ctx, b.opt.Client, op, key, mk, apiError)
}

// object is the part of the JSON API's object resource the driver reads.
type object struct {
	Name               string            `json:"name"`
	ContentType        string            `json:"contentType"`
	ContentEncoding    string            `json:"contentEncoding"`
	ContentDisposition string            `json:"contentDisposition"`
	ContentLanguage    string            `json:"contentLanguage"`
	CacheControl       string            `json:"cacheControl"`
	Size               string            `json:"size"`
	MD5Hash            string            `json:"md5Hash"`
	ETag               string            `json:"etag"`
	Generation         string            `json:"generation"`
	TimeCreated        time.Time         `json:"timeCreated"`
	Updated            time.Time         `json:"updated"`
	Metadata           map[string]string `json:"metadata"`
}

func (o *object) size() int64 {
	n, _ := strconv.ParseInt(o.Size, 10, 64)
	return n
}

func (o *object) md5() []byte {
	m, _ := base64.StdEncoding.DecodeString(o.MD5Hash)
	return m
}

// decode reads a JSON answer of bounded size and closes it.
func decode(op, key string, resp *http.Response, v any) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetaBody+1))
	if err != nil {
		return &Error{Op: op, Key: key, Err: httpx.TransportErr(err)}
	}
	if len(body) > maxMetaBody {
		return &Error{Op: op, Key: key, Err: errors.New("answer larger than 4 MiB")}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Op: op, Key: key, Err: fmt.Errorf("unreadable answer: %v", err)}
	}
	return nil
}

func get(u string) func() (*http.Request, error) {
	return func() (*http.Request, error) { return http.NewRequest(http.MethodGet, u, nil) }
}

// Attributes implements driver.Bucket.
func (b *bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	o, err := b.stat(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl:       o.CacheControl,
		ContentDisposition: o.ContentDisposition,
		ContentEncoding:    o.ContentEncoding,
		ContentLanguage:    o.ContentLanguage,
		ContentType:        o.ContentType,
		Metadata:           o.Metadata,
		CreateTime:         o.TimeCreated,
		ModTime:            o.Updated,
		Size:               o.size(),
		MD5:                o.md5(),
		ETag:               `"` + o.ETag + `"`, // the JSON API's etag is bare; HTTP's is quoted
	}, nil
}

func (b *bucket) stat(ctx context.Context, key string) (*object, error) {
	const op = "read attributes of"
	if key == "" {
		return nil, noName(op)
	}
	resp, err := b.send(ctx, op, key, get(b.objectURL(key)))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(op, key, resp)
	}
	var o object
	if err := decode(op, key, resp, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// ListPaged implements driver.Bucket. The API answers objects and
// "directories" (prefixes) apart; one page merges them in key order.
func (b *bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	const op = "list"
	if opts.BeforeList != nil {
		if err := opts.BeforeList(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	if opts.Prefix != "" {
		q.Set("prefix", escapeKey(opts.Prefix))
	}
	if opts.Delimiter != "" {
		q.Set("delimiter", escapeKey(opts.Delimiter))
	}
	size := opts.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	q.Set("maxResults", strconv.Itoa(size))
	token, skip := splitToken(string(opts.PageToken))
	if token != "" {
		q.Set("pageToken", token)
	}
	q.Set("fields", "items(name,size,md5Hash,updated),prefixes,nextPageToken")
	resp, err := b.send(ctx, op, opts.Prefix, get(b.base+"/storage/v1/b/"+b.name+"/o?"+q.Encode()))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(op, opts.Prefix, resp)
	}
	var page listAnswer
	if err := decode(op, opts.Prefix, resp, &page); err != nil {
		return nil, err
	}
	return page.page(size, skip, token), nil
}

// listAnswer is one answer of the objects list.
type listAnswer struct {
	Items         []object `json:"items"`
	Prefixes      []string `json:"prefixes"`
	NextPageToken string   `json:"nextPageToken"`
}

// page merges objects and prefixes in key order and hands out at most
// size of them, skip entries in: Cloud Storage counts prefixes in
// maxResults, a server that does not (emulators) may answer more, and the
// rest comes from the same page asked for again with a count to skip.
func (a *listAnswer) page(size, skip int, token string) *driver.ListPage {
	all := make([]*driver.ListObject, 0, len(a.Items)+len(a.Prefixes))
	for i := range a.Items {
		o := &a.Items[i]
		all = append(all, &driver.ListObject{Key: escape.HexUnescape(o.Name), ModTime: o.Updated, Size: o.size(), MD5: o.md5()})
	}
	for _, p := range a.Prefixes {
		all = append(all, &driver.ListObject{Key: escape.HexUnescape(p), IsDir: true})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	all = all[min(skip, len(all)):]
	out := &driver.ListPage{Objects: all, NextPageToken: []byte(a.NextPageToken)}
	if len(all) > size {
		out.Objects = all[:size]
		out.NextPageToken = []byte(skipToken + strconv.Itoa(skip+size) + ":" + token)
	}
	return out
}

// skipToken starts a page token of ours: SKIP:TOKEN is the page TOKEN
// without its first SKIP entries. The service's tokens never start so.
const skipToken = "~skip:"

func splitToken(t string) (string, int) {
	rest, ok := strings.CutPrefix(t, skipToken)
	if !ok {
		return t, 0
	}
	n, token, _ := strings.Cut(rest, ":")
	skip, err := strconv.Atoi(n)
	if err != nil || skip < 0 {
		return token, 0
	}
	return token, skip
}

// NewRangeReader implements driver.Bucket.
func (b *bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	const op = "read"
	if opts.BeforeRead != nil {
		if err := opts.BeforeRead(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	if key == "" {
		return nil, noName(op)
	}
	if length == 0 {
		// Nothing to read; the attributes still have to be right, and a
		// missing object still an error.
		o, err := b.stat(ctx, key)
		if err != nil {
			return nil, err
		}
		return httpx.Empty(driver.ReaderAttributes{ContentType: o.ContentType, ModTime: o.Updated, Size: o.size()}), nil
	}
	u := b.objectURL(key) + "?alt=media"
	resp, err := b.send(ctx, op, key, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		switch {
		case length > 0:
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
		case offset > 0:
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	r := &httpx.Reader{Body: resp.Body, Attrs: driver.ReaderAttributes{ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength}}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusPartialContent:
		// bytes FIRST-LAST/TOTAL: the object's size is TOTAL.
		if _, total, ok := strings.Cut(resp.Header.Get("Content-Range"), "/"); ok {
			if n, err := strconv.ParseInt(total, 10, 64); err == nil {
				r.Attrs.Size = n
			}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The offset is at or past the end: an empty read, as gcsblob gives.
		resp.Body.Close()
		o, err := b.stat(ctx, key)
		if err != nil {
			return nil, err
		}
		return httpx.Empty(driver.ReaderAttributes{ContentType: o.ContentType, ModTime: o.Updated, Size: o.size()}), nil
	default:
		return nil, apiError(op, key, resp)
	}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		r.Attrs.ModTime = t
	}
	return r, nil
}

// metadata is the JSON object resource a write sends.
func (b *bucket) metadata(key, contentType string, opts *driver.WriterOptions) ([]byte, error) {
	m := map[string]any{"name": escapeKey(key)}
	if contentType != "" {
		m["contentType"] = contentType
	}
	for k, v := range map[string]string{"cacheControl": opts.CacheControl, "contentDisposition": opts.ContentDisposition,
		"contentEncoding": opts.ContentEncoding, "contentLanguage": opts.ContentLanguage} {
		if v != "" {
			m[k] = v
		}
	}
	if len(opts.Metadata) > 0 {
		m["metadata"] = opts.Metadata
	}
	if len(opts.ContentMD5) > 0 {
		m["md5Hash"] = base64.StdEncoding.EncodeToString(opts.ContentMD5)
	}
	return json.Marshal(m)
}

// NewTypedWriter implements driver.Bucket.
func (b *bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	if key == "" {
		return nil, noName("write")
	}
	if opts.BeforeWrite != nil {
		if err := opts.BeforeWrite(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	meta, err := b.metadata(key, contentType, opts)
	if err != nil {
		return nil, err
	}
	w := &writer{ctx: ctx, b: b, key: key, contentType: contentType, meta: meta, ifNotExist: opts.IfNotExist}
	w.chunks = httpx.Chunks{Size: b.opt.ChunkSize, Flush: w.flushChunk}
	return w, nil
}

// writer buffers one chunk. An object that fits in it is sent in one
// multipart request at Close; a larger one opens a resumable session when
// the chunk first fills and sends it chunk by chunk.
type writer struct {
	ctx         context.Context
	b           *bucket
	key         string
	contentType string
	meta        []byte
	ifNotExist  bool
	chunks      httpx.Chunks

	session string // resumable session URL, once opened
	sent    int64  // bytes the session holds
	err     error
	closed  bool
}

func (w *writer) Write(p []byte) (int, error) { return w.chunks.Write(p) }

// flushChunk sends a full buffer as a non-final chunk.
func (w *writer) flushChunk() error {
	if w.session == "" {
		if err := w.openSession(); err != nil {
			return err
		}
	}
	return w.putChunk(false)
}

func (w *writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if err := w.ctx.Err(); err != nil {
		w.abort()
		return err
	}
	if w.err = w.chunks.Err(); w.err != nil {
		w.abort()
		return w.err
	}
	if w.session == "" {
		w.err = w.multipart()
	} else {
		w.err = w.putChunk(true)
	}
	if w.err != nil {
		w.abort()
	}
	return w.err
}

// abort cancels an open session (best effort): its bytes never become an
// object.
func (w *writer) abort() {
	if w.session == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, w.session, nil)
	if err != nil {
		return
	}
	if resp, err := w.b.opt.Client.Do(req); err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, httpx.MaxErrorBody))
		resp.Body.Close()
	}
	w.session = ""
}

func (w *writer) uploadURL(kind string) string {
	q := url.Values{"uploadType": {kind}, "name": {escapeKey(w.key)}}
	if w.ifNotExist {
		q.Set("ifGenerationMatch", "0")
	}
	return w.b.base + "/upload/storage/v1/b/" + w.b.name + "/o?" + q.Encode()
}

// multipart sends a whole object (metadata and bytes) in one request.
func (w *writer) multipart() error {
	const op = "write"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}}
	pw, _ := mw.CreatePart(h)
	pw.Write(w.meta)
	ct := w.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ct}})
	pw.Write(w.chunks.Buf)
	mw.Close()
	payload := body.Bytes()
	u := w.uploadURL("multipart")
	tries := 0
	resp, err := w.b.send(w.ctx, op, w.key, func() (*http.Request, error) {
		tries++
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "multipart/related; boundary="+mw.Boundary())
		return req, nil
	})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusPreconditionFailed && tries > 1 {
		// A try before this one may have written the object and lost the
		// answer: the object that exists now is ours if it has our bytes.
		resp.Body.Close()
		if w.existsWithOurBytes() {
			return nil
		}
		return &Error{Op: op, Key: w.key, Status: http.StatusPreconditionFailed, Message: "the object already exists"}
	}
	return finished(op, w.key, resp)
}

func (w *writer) existsWithOurBytes() bool {
	o, err := w.b.stat(w.ctx, w.key)
	return err == nil && o.size() == w.chunks.N && bytes.Equal(o.md5(), w.chunks.MD5())
}

// finished judges the answer to the request that completes an object.
func finished(op, key string, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxMetaBody))
		resp.Body.Close()
		return nil
	}
	return apiError(op, key, resp)
}

// openSession starts a resumable upload. The session URL the service
// answers must be on the endpoint's origin: the client sends credentials
// with every request, and a session elsewhere would get them.
func (w *writer) openSession() error {
	const op = "start upload of"
	u := w.uploadURL("resumable")
	resp, err := w.b.send(w.ctx, op, w.key, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(w.meta))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		if w.contentType != "" {
			req.Header.Set("X-Upload-Content-Type", w.contentType)
		}
		return req, nil
	})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return apiError(op, w.key, resp)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, httpx.MaxErrorBody))
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host != w.b.origin || loc.User != nil {
		return &Error{Op: op, Key: w.key, Err: errors.New("the service answered an upload session on another host; refusing to send credentials there")}
	}
	w.session = loc.String()
	return nil
}

// putChunk sends the buffer from offset w.sent; final says it ends the
// object. After a failed try it asks the session how much it holds and
// resends only the rest, so no byte is lost or sent twice into the object.
func (w *writer) putChunk(final bool) error {
	const op = "write"
	buf := w.chunks.Buf
	base := w.sent // the offset of buf[0]
	end := base + int64(len(buf))
	total := "*"
	if final {
		total = strconv.FormatInt(end, 10)
	}
	wait := w.b.opt.Retry.Waiter()
	fails, query := 0, false
	for {
		data := buf[w.sent-base:]
		if query {
			data = nil
		}
		req, err := http.NewRequestWithContext(w.ctx, http.MethodPut, w.session, bytes.NewReader(data))
		if err != nil {
			return &Error{Op: op, Key: w.key, Err: err}
		}
		req.ContentLength = int64(len(data))
		if len(data) == 0 {
			req.Header.Set("Content-Range", "bytes */"+total)
		} else {
			req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%s", w.sent, w.sent+int64(len(data))-1, total))
		}
		resp, err := w.b.opt.Client.Do(req)
		var failed error
		switch {
		case w.ctx.Err() != nil:
			if resp != nil {
				resp.Body.Close()
			}
			return &Error{Op: op, Key: w.key, Err: w.ctx.Err()}
		case err != nil:
			failed = &Error{Op: op, Key: w.key, Err: httpx.TransportErr(err)}
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
			if !final {
				resp.Body.Close()
				return &Error{Op: op, Key: w.key, Err: errors.New("the upload session ended before the object did")}
			}
			w.sent = end
			return finished(op, w.key, resp)
		case resp.StatusCode == http.StatusPermanentRedirect: // "resume incomplete"
			held, ok := persisted(resp)
			resp.Body.Close()
			if !ok || held < base || held > end {
				return &Error{Op: op, Key: w.key, Err: errors.New("the upload session reports a size it cannot hold")}
			}
			progress := held > w.sent || query
			w.sent, query = held, false
			if !final && held == end {
				return nil
			}
			if progress {
				continue
			}
			failed = &Error{Op: op, Key: w.key, Err: errors.New("the upload session took none of the bytes sent")}
		case httpx.Retryable(resp.StatusCode):
			failed = apiError(op, w.key, resp)
		default:
			return apiError(op, w.key, resp)
		}
		if fails++; fails >= w.b.opt.Retry.MaxAttempts {
			return failed
		}
		if err := wait.Wait(w.ctx, 0); err != nil {
			return &Error{Op: op, Key: w.key, Err: err}
		}
		query = true
	}
}

// persisted reads how many bytes a session holds from a 308's Range
// header (bytes=0-LAST; none means none).
func persisted(resp *http.Response) (int64, bool) {
	r := resp.Header.Get("Range")
	if r == "" {
		return 0, true
	}
	last, ok := strings.CutPrefix(r, "bytes=0-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil || n < 0 || n == math.MaxInt64 {
		return 0, false
	}
	return n + 1, true
}

// Copy implements driver.Bucket with the rewrite call, which large objects
// may need more than one round of (the service says when it is done).
func (b *bucket) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	const op = "copy"
	if opts.BeforeCopy != nil {
		if err := opts.BeforeCopy(func(any) bool { return false }); err != nil {
			return err
		}
	}
	if srcKey == "" || dstKey == "" {
		return noName(op)
	}
	u := b.objectURL(srcKey) + "/rewriteTo/b/" + b.name + "/o/" + url.PathEscape(escapeKey(dstKey))
	token := ""
	for round := 0; ; round++ {
		if round == maxCopyRounds {
			return &Error{Op: op, Key: srcKey, Err: fmt.Errorf("the copy did not finish in %d rounds", maxCopyRounds)}
		}
		ru := u
		if token != "" {
			ru += "?rewriteToken=" + url.QueryEscape(token)
		}
		resp, err := b.send(ctx, op, srcKey, func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, ru, strings.NewReader("{}"))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		})
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return apiError(op, srcKey, resp)
		}
		var r struct {
			Done         bool   `json:"done"`
			RewriteToken string `json:"rewriteToken"`
		}
		if err := decode(op, srcKey, resp, &r); err != nil {
			return err
		}
		if r.Done {
			return nil
		}
		if r.RewriteToken == "" || r.RewriteToken == token {
			return &Error{Op: op, Key: srcKey, Err: errors.New("the service neither finished the copy nor said how to go on")}
		}
		token = r.RewriteToken
	}
}

// maxCopyRounds bounds the rewrite calls of one copy (Cloud Storage moves
// at least 1 GiB or so a round, so a real copy needs far fewer), against a
// service that says "not done" forever. A variable so a test can lower it.
var maxCopyRounds = 10_000

// Delete implements driver.Bucket.
func (b *bucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	const op = "delete"
	if opts.BeforeDelete != nil {
		if err := opts.BeforeDelete(func(any) bool { return false }); err != nil {
			return err
		}
	}
	if key == "" {
		return noName(op)
	}
	u := b.objectURL(key)
	resp, err := b.send(ctx, op, key, func() (*http.Request, error) { return http.NewRequest(http.MethodDelete, u, nil) })
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return apiError(op, key, resp)
	}
	resp.Body.Close()
	return nil
}
