// Package azure is a gocloud.dev/blob driver for Azure Blob Storage that
// speaks the Blob service's REST API over net/http.
//
// It exists for start-up time, like core/blob/gcs: Azure's storage SDK and
// gocloud's azureblob on top of it (which drags in Google's API client for
// a user-agent helper) cost every start of the assay binary about 3 ms,
// whatever the command. The driver covers what assay does with a
// container (whole and ranged reads, writes as one Put Blob or as blocks
// and a block list, with an optional does-not-exist condition, listing,
// attributes, copy, delete), signs requests with a Shared Key, appends a
// SAS, or sends a bearer token (Azure AD, from azidentity), and retries
// what is safe to retry. Keys and metadata are escaped as gocloud's
// azureblob escapes them, so a container written by either reads the same
// with the other.
package azure

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// APIVersion is the x-ms-version every request names.
const APIVersion = "2025-01-05"

// TokenFunc returns a bearer token for https://storage.azure.com/.
type TokenFunc func(ctx context.Context) (string, error)

// Options say where a container is and how requests are authorized: a
// Shared Key (Account and Key), a SAS, or a Token; none is anonymous.
type Options struct {
	// ServiceURL is the account's blob endpoint without a trailing slash:
	// https://ACCOUNT.blob.core.windows.net, or path-style
	// http://127.0.0.1:10000/ACCOUNT for an emulator.
	ServiceURL string
	Account    string
	Key        []byte // the decoded account key
	SAS        string // a shared access signature (a query string, no '?')
	Token      TokenFunc
	// Client sends the requests; nil is http.DefaultClient.
	Client *http.Client
	// BlockSize is the size of one block of an upload (default 8 MiB); an
	// object that fits in one block goes up in a single Put Blob.
	BlockSize int
	Retry     httpx.Policy
}

const (
	defaultBlockSize = 8 << 20
	maxMetaBody      = 8 << 20 // one list page
	defaultPageSize  = 1000
	tokenScope       = "https://storage.azure.com/.default"
)

// TokenScope is the scope a TokenFunc's token must be for.
const TokenScope = tokenScope

// OpenBucket returns the container reached through o. Nothing is sent
// until it is used.
func OpenBucket(container string, o Options) (*gcblob.Bucket, error) {
	b, err := openBucket(container, o)
	if err != nil {
		return nil, err
	}
	return gcblob.NewBucket(b), nil
}

func openBucket(container string, o Options) (*bucket, error) {
	if !validContainer(container) {
		return nil, fmt.Errorf("invalid Azure container name %q: use 3 to 63 lower-case letters, digits and '-'", container)
	}
	u, err := url.Parse(o.ServiceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid Azure blob endpoint: give http(s)://HOST[/ACCOUNT]")
	}
	if o.Token != nil && u.Scheme != "https" {
		return nil, fmt.Errorf("an Azure AD token is only sent over https")
	}
	if len(o.Key) > 0 && o.Account == "" {
		return nil, fmt.Errorf("a Shared Key needs the account name")
	}
	o.Client = httpx.SameHost(o.Client)
	if o.BlockSize <= 0 {
		o.BlockSize = defaultBlockSize
	}
	o.SAS = strings.TrimPrefix(o.SAS, "?")
	o.Retry = o.Retry.WithDefaults()
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/") + "/" + container
	return &bucket{container: container, opt: o, base: base}, nil
}

func validContainer(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return s == "$root" || s == "$web" // the special containers
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

type bucket struct {
	httpx.Basics
	container string
	opt       Options
	base      string // ServiceURL + "/" + container
}

// escapeKey is azureblob's: Azure mishandles backslashes, some control
// and URL characters, a trailing "/" of a full key, and "../".
func escapeKey(key string, isPrefix bool) string {
	return escape.HexEscape(key, func(r []rune, i int) bool {
		c := r[i]
		switch {
		case c == '\\':
			return true
		case c < 32 || c == 34 || c == 35 || c == 37 || c == 63 || c == 127:
			return true
		case !isPrefix && i == len(key)-1 && c == '/':
			return true
		case i > 1 && r[i] == '/' && r[i-1] == '.' && r[i-2] == '.':
			return true
		}
		return false
	})
}

// escapeMetaKey makes a metadata key a C# identifier, as azureblob did.
func escapeMetaKey(k string) string {
	return escape.HexEscape(k, func(runes []rune, i int) bool {
		c := runes[i]
		switch {
		case i == 0 && c >= '0' && c <= '9':
			return true
		case escape.IsASCIIAlphanumeric(c):
			return false
		case c == '_':
			return false
		}
		return true
	})
}

func (b *bucket) blobURL(key string) string {
	parts := strings.Split(escapeKey(key, false), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return b.base + "/" + strings.Join(parts, "/")
}

// Error is a failed request (it never carries a URL or a credential).
type Error = httpx.Error

// ErrorCode implements driver.Bucket: the service's codes first.
func (b *bucket) ErrorCode(err error) gcerrors.ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		switch e.Code {
		case "AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch":
			return gcerrors.PermissionDenied
		case "BlobAlreadyExists", "ConditionNotMet", "TargetConditionNotMet", "SourceConditionNotMet":
			return gcerrors.FailedPrecondition
		case "BlobNotFound", "ContainerNotFound":
			return gcerrors.NotFound
		}
	}
	return httpx.Code(err)
}

// apiError reads (a bounded part of) a failed answer and closes it.
func apiError(op, key string, resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxErrorBody))
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	_ = xml.Unmarshal(body, &doc)
	code := resp.Header.Get("x-ms-error-code")
	if code == "" {
		code = doc.Code
	}
	msg := doc.Message
	if i := strings.Index(msg, "\n"); i > 0 {
		msg = msg[:i] // the RequestId and Time lines
	}
	if msg == "" {
		msg = code
	}
	return &Error{Op: op, Key: key, Status: resp.StatusCode, Code: httpx.Clean(code), Message: httpx.Clean(msg)}
}

// newRequest builds an authorized request; it runs once per try, so the
// date and the signature are fresh. headers are set before signing.
func (b *bucket) newRequest(ctx context.Context, method, rawURL string, body []byte, headers map[string]string) (*http.Request, error) {
	if b.opt.SAS != "" && len(b.opt.Key) == 0 && b.opt.Token == nil {
		sep := "?"
		if strings.Contains(rawURL, "?") {
			sep = "&"
		}
		rawURL += sep + b.opt.SAS
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("x-ms-version", APIVersion)
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	switch {
	case len(b.opt.Key) > 0:
		req.Header.Set("Authorization", "SharedKey "+b.opt.Account+":"+b.sign(req))
	case b.opt.Token != nil:
		tok, err := b.opt.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("no Azure AD token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}

// sign is the Shared Key signature of a request (the Blob service's
// "Authorize with Shared Key", version 2009-09-19 and later).
func (b *bucket) sign(req *http.Request) string {
	h := req.Header
	length := ""
	if req.ContentLength > 0 {
		length = strconv.FormatInt(req.ContentLength, 10)
	}
	var names []string
	for k := range h {
		if k := strings.ToLower(k); strings.HasPrefix(k, "x-ms-") {
			names = append(names, k)
		}
	}
	tables := getWeightTables()
	sort.Slice(names, func(i, j int) bool { return compareHeaders(names[i], names[j], tables) < 0 })
	var canon strings.Builder
	for i, k := range names {
		if i > 0 {
			canon.WriteByte('\n')
		}
		canon.WriteString(k + ":" + strings.Join(h.Values(k), ","))
	}
	res := "/" + b.opt.Account + req.URL.EscapedPath()
	q := req.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		res += "\n" + strings.ToLower(k) + ":" + strings.Join(vs, ",")
	}
	toSign := strings.Join([]string{
		req.Method, h.Get("Content-Encoding"), h.Get("Content-Language"), length,
		h.Get("Content-MD5"), h.Get("Content-Type"), "", h.Get("If-Modified-Since"),
		h.Get("If-Match"), h.Get("If-None-Match"), h.Get("If-Unmodified-Since"), h.Get("Range"),
		canon.String(), res,
	}, "\n")
	m := hmac.New(sha256.New, b.opt.Key)
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// send runs a request with the bucket's retry policy.
func (b *bucket) send(ctx context.Context, op, key, method, rawURL string, body []byte, headers map[string]string) (*http.Response, error) {
	return b.opt.Retry.Send(ctx, b.opt.Client, op, key, func() (*http.Request, error) {
		return b.newRequest(ctx, method, rawURL, body, headers)
	}, apiError)
}

func noName(op string) error {
	return &Error{Op: op, Status: http.StatusBadRequest, Message: "a blob needs a name"}
}

// Attributes implements driver.Bucket.
func (b *bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	const op = "read attributes of"
	if key == "" {
		return nil, noName(op)
	}
	resp, err := b.send(ctx, op, key, http.MethodHead, b.blobURL(key), nil, nil)
	if err != nil {
		return nil, err
	}
	httpx.Drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Op: op, Key: key, Status: resp.StatusCode, Code: httpx.Clean(resp.Header.Get("x-ms-error-code"))}
	}
	h := resp.Header
	a := &driver.Attributes{
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentLanguage:    h.Get("Content-Language"),
		ContentType:        h.Get("Content-Type"),
		Size:               resp.ContentLength,
		ETag:               h.Get("ETag"),
	}
	a.MD5, _ = base64.StdEncoding.DecodeString(h.Get("Content-MD5"))
	a.ModTime, _ = http.ParseTime(h.Get("Last-Modified"))
	a.CreateTime, _ = http.ParseTime(h.Get("x-ms-creation-time"))
	for k, vs := range h {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-ms-meta-"); ok && len(vs) > 0 {
			if a.Metadata == nil {
				a.Metadata = map[string]string{}
			}
			a.Metadata[escape.HexUnescape(name)] = escape.URLUnescape(vs[0])
		}
	}
	return a, nil
}

// ListPaged implements driver.Bucket.
func (b *bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	const op = "list"
	if opts.BeforeList != nil {
		if err := opts.BeforeList(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	q := url.Values{"restype": {"container"}, "comp": {"list"}}
	if opts.Prefix != "" {
		q.Set("prefix", escapeKey(opts.Prefix, true))
	}
	if opts.Delimiter != "" {
		q.Set("delimiter", escapeKey(opts.Delimiter, true))
	}
	size := opts.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	q.Set("maxresults", strconv.Itoa(size))
	if len(opts.PageToken) > 0 {
		q.Set("marker", string(opts.PageToken))
	}
	resp, err := b.send(ctx, op, opts.Prefix, http.MethodGet, b.base+"?"+q.Encode(), nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(op, opts.Prefix, resp)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetaBody+1))
	if err != nil {
		return nil, &Error{Op: op, Key: opts.Prefix, Err: httpx.TransportErr(err)}
	}
	if len(body) > maxMetaBody {
		return nil, &Error{Op: op, Key: opts.Prefix, Err: errors.New("answer larger than 8 MiB")}
	}
	return parseList(body)
}

// parseList reads one List Blobs answer: blobs and prefixes in key order
// (names the service percent-encoded, Encoded="true", decoded).
func parseList(body []byte) (*driver.ListPage, error) {
	type name struct {
		Encoded bool   `xml:"Encoded,attr"`
		Text    string `xml:",chardata"`
	}
	var page struct {
		Blobs []struct {
			Name       name `xml:"Name"`
			Properties struct {
				LastModified  string `xml:"Last-Modified"`
				ContentLength int64  `xml:"Content-Length"`
				ContentMD5    string `xml:"Content-MD5"`
			} `xml:"Properties"`
		} `xml:"Blobs>Blob"`
		Prefixes []struct {
			Name name `xml:"Name"`
		} `xml:"Blobs>BlobPrefix"`
		NextMarker string `xml:"NextMarker"`
	}
	if err := xml.Unmarshal(body, &page); err != nil {
		return nil, &Error{Op: "list", Err: fmt.Errorf("unreadable answer: %v", err)}
	}
	decode := func(n name) string {
		if n.Encoded {
			if s, err := url.PathUnescape(n.Text); err == nil {
				return escape.HexUnescape(s)
			}
		}
		return escape.HexUnescape(n.Text)
	}
	out := &driver.ListPage{NextPageToken: []byte(page.NextMarker)}
	for _, bl := range page.Blobs {
		o := &driver.ListObject{Key: decode(bl.Name), Size: bl.Properties.ContentLength}
		o.ModTime, _ = http.ParseTime(bl.Properties.LastModified)
		o.MD5, _ = base64.StdEncoding.DecodeString(bl.Properties.ContentMD5)
		out.Objects = append(out.Objects, o)
	}
	for _, p := range page.Prefixes {
		out.Objects = append(out.Objects, &driver.ListObject{Key: decode(p.Name), IsDir: true})
	}
	sort.Slice(out.Objects, func(i, j int) bool { return out.Objects[i].Key < out.Objects[j].Key })
	return out, nil
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
	empty := func() (driver.Reader, error) {
		a, err := b.Attributes(ctx, key)
		if err != nil {
			return nil, err
		}
		return httpx.Empty(driver.ReaderAttributes{ContentType: a.ContentType, ModTime: a.ModTime, Size: a.Size}), nil
	}
	if length == 0 {
		return empty()
	}
	hdr := map[string]string{}
	switch {
	case length > 0:
		hdr["x-ms-range"] = fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
	case offset > 0:
		hdr["x-ms-range"] = fmt.Sprintf("bytes=%d-", offset)
	}
	resp, err := b.send(ctx, op, key, http.MethodGet, b.blobURL(key), nil, hdr)
	if err != nil {
		return nil, err
	}
	r := &httpx.Reader{Body: resp.Body, Attrs: driver.ReaderAttributes{ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength}}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusPartialContent:
		if _, total, ok := strings.Cut(resp.Header.Get("Content-Range"), "/"); ok {
			if n, err := strconv.ParseInt(total, 10, 64); err == nil {
				r.Attrs.Size = n
			}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// At or past the end (or an empty blob): an empty read.
		httpx.Drain(resp)
		return empty()
	default:
		return nil, apiError(op, key, resp)
	}
	r.Attrs.ModTime, _ = http.ParseTime(resp.Header.Get("Last-Modified"))
	return r, nil
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
	props := map[string]string{
		"x-ms-blob-content-type":        contentType,
		"x-ms-blob-cache-control":       opts.CacheControl,
		"x-ms-blob-content-disposition": opts.ContentDisposition,
		"x-ms-blob-content-encoding":    opts.ContentEncoding,
		"x-ms-blob-content-language":    opts.ContentLanguage,
	}
	for k, v := range opts.Metadata {
		e := "x-ms-meta-" + escapeMetaKey(k)
		if _, dup := props[e]; dup {
			return nil, fmt.Errorf("duplicate metadata keys after escaping: %q", k)
		}
		props[e] = escape.URLEscape(v)
	}
	if opts.IfNotExist {
		props["If-None-Match"] = "*"
	}
	w := &writer{ctx: ctx, b: b, key: key, props: props, wantMD5: opts.ContentMD5}
	w.chunks = httpx.Chunks{Size: b.opt.BlockSize, Flush: w.putBlock}
	return w, nil
}

// writer buffers one block. An object that fits in it goes up in one Put
// Blob at Close; a larger one as blocks, committed by a block list at
// Close (uncommitted blocks of a failed write never become the blob).
type writer struct {
	ctx     context.Context
	b       *bucket
	key     string
	props   map[string]string
	wantMD5 []byte
	chunks  httpx.Chunks

	blocks []string
	err    error
	closed bool
}

func (w *writer) Write(p []byte) (int, error) { return w.chunks.Write(p) }

// putBlock sends the buffer as the next block (Put Block is idempotent:
// the same id with the same bytes).
func (w *writer) putBlock() error {
	id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "assay-block-%08d", len(w.blocks)))
	u := w.b.blobURL(w.key) + "?comp=block&blockid=" + url.QueryEscape(id)
	resp, err := w.b.send(w.ctx, "write", w.key, http.MethodPut, u, w.chunks.Buf, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return apiError("write", w.key, resp)
	}
	httpx.Drain(resp)
	w.blocks = append(w.blocks, id)
	return nil
}

func (w *writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.err = w.chunks.Err(); w.err != nil {
		return w.err
	}
	sum := w.chunks.MD5()
	if len(w.wantMD5) > 0 && !bytes.Equal(w.wantMD5, sum) {
		w.err = &Error{Op: "write", Key: w.key, Status: http.StatusBadRequest, Code: "Md5Mismatch", Message: "the content does not match the MD5 given"}
		return w.err
	}
	hdr := map[string]string{"x-ms-blob-content-md5": base64.StdEncoding.EncodeToString(sum)}
	for k, v := range w.props {
		hdr[k] = v
	}
	var u string
	var body []byte
	if len(w.blocks) == 0 {
		u, body = w.b.blobURL(w.key), w.chunks.Buf
		if body == nil {
			body = []byte{}
		}
		hdr["x-ms-blob-type"] = "BlockBlob"
	} else {
		if len(w.chunks.Buf) > 0 {
			if w.err = w.putBlock(); w.err != nil {
				return w.err
			}
		}
		var list bytes.Buffer
		list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
		for _, id := range w.blocks {
			list.WriteString("<Latest>" + id + "</Latest>")
		}
		list.WriteString("</BlockList>")
		u, body = w.b.blobURL(w.key)+"?comp=blocklist", list.Bytes()
		hdr["Content-Type"] = "application/xml"
	}
	tries := 0
	resp, err := w.b.opt.Retry.Send(w.ctx, w.b.opt.Client, "write", w.key, func() (*http.Request, error) {
		tries++
		return w.b.newRequest(w.ctx, http.MethodPut, u, body, hdr)
	}, apiError)
	if err != nil {
		w.err = err
		return err
	}
	if resp.StatusCode == http.StatusCreated {
		httpx.Drain(resp)
		return nil
	}
	w.err = apiError("write", w.key, resp)
	if tries > 1 && w.b.ErrorCode(w.err) == gcerrors.FailedPrecondition {
		// A try before this one may have written the blob and lost the
		// answer: the blob that exists now is ours if it has our bytes.
		if a, err := w.b.Attributes(w.ctx, w.key); err == nil && a.Size == w.chunks.N && bytes.Equal(a.MD5, sum) {
			w.err = nil
		}
	}
	return w.err
}

// Copy implements driver.Bucket: Copy Blob within the account, waiting
// while the service reports it pending.
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
	src := b.blobURL(srcKey)
	if b.opt.SAS != "" && len(b.opt.Key) == 0 && b.opt.Token == nil {
		src += "?" + b.opt.SAS // the source is read with the same rights
	}
	resp, err := b.send(ctx, op, srcKey, http.MethodPut, b.blobURL(dstKey), []byte{}, map[string]string{"x-ms-copy-source": src})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusCreated {
		return apiError(op, srcKey, resp)
	}
	httpx.Drain(resp)
	status := resp.Header.Get("x-ms-copy-status")
	for polls := 0; status == "pending"; polls++ {
		if polls == maxCopyPolls {
			return &Error{Op: op, Key: srcKey, Err: fmt.Errorf("the copy was still pending after %d checks", maxCopyPolls)}
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return &Error{Op: op, Key: srcKey, Err: ctx.Err()}
		case <-t.C:
		}
		r, err := b.send(ctx, op, dstKey, http.MethodHead, b.blobURL(dstKey), nil, nil)
		if err != nil {
			return err
		}
		httpx.Drain(r)
		if r.StatusCode != http.StatusOK {
			return &Error{Op: op, Key: dstKey, Status: r.StatusCode, Code: httpx.Clean(r.Header.Get("x-ms-error-code"))}
		}
		status = r.Header.Get("x-ms-copy-status")
	}
	if status != "" && status != "success" {
		return &Error{Op: op, Key: srcKey, Err: fmt.Errorf("the copy ended %s", httpx.Clean(status))}
	}
	return nil
}

// maxCopyPolls bounds the checks of a pending copy (200 ms apart: ten
// minutes), against a service that says "pending" forever; copies within
// an account are normally done at once. A variable so a test can lower it.
var maxCopyPolls = 3000

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
	resp, err := b.send(ctx, op, key, http.MethodDelete, b.blobURL(key), nil, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return apiError(op, key, resp)
	}
	httpx.Drain(resp)
	return nil
}
