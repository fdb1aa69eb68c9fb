package gcs

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/drivertest"
	"gocloud.dev/gcerrors"

	"github.com/assay-dev/assay/core/blob/internal/httpx"
)

const testBucket = "assay-test"

// emulator is fake-gcs-server (in memory) behind a loopback listener, with
// a hook that may answer a request itself (fault injection).
type emulator struct {
	URL  string
	fake *fakestorage.Server
	hook atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func startEmulator(t testing.TB) *emulator {
	t.Helper()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Scheme: "http", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Stop)
	fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	e := &emulator{fake: fake}
	h := fake.HTTPHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := e.hook.Load(); f != nil && (*f)(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

func (e *emulator) bucket(t testing.TB, name string, chunk int) *bucket {
	t.Helper()
	b, err := openBucket(name, Options{Endpoint: e.URL, ChunkSize: chunk, Retry: httpx.Policy{Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type harness struct {
	e *emulator
	t *testing.T
}

func (h *harness) MakeDriver(context.Context) (driver.Bucket, error) {
	// The smallest chunk, so that the suite's larger blobs go through
	// resumable sessions and the small ones through multipart.
	return h.e.bucket(h.t, testBucket, chunkQuantum), nil
}

func (h *harness) MakeDriverForNonexistentBucket(context.Context) (driver.Bucket, error) {
	return h.e.bucket(h.t, "no-such-bucket", 0), nil
}

func (h *harness) HTTPClient() *http.Client { return nil }
func (h *harness) SupportsCopy() bool       { return true }

// fake-gcs-server cuts prefixes at the first byte of a multi-byte
// delimiter ("abc"); Cloud Storage does not, and assay lists without one.
func (h *harness) SupportsNonSlashDelimiters() bool { return false }
func (h *harness) SkipDownloadAt() bool             { return false }
func (h *harness) Close()                           {}

// TestConformance runs gocloud's driver conformance suite (the one gcsblob
// passes) against the emulator.
func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, func(context.Context, *testing.T) (drivertest.Harness, error) {
		return &harness{e: startEmulator(t), t: t}, nil
	}, nil)
}

func put(t *testing.T, b *gcblob.Bucket, key string, data []byte, opts *gcblob.WriterOptions) error {
	t.Helper()
	return b.WriteAll(context.Background(), key, data, opts)
}

func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>9)
	}
	return p
}

// sessions is a strict model of Cloud Storage's resumable uploads (the
// emulator appends whatever arrives and takes a status query for the end):
// a chunk must start where the session stands, a status query answers 308
// with the bytes held, the chunk that reaches the declared total finishes
// the object. fail may break a chunk: "503" (nothing kept), "half" (half
// kept, then 503), "drop" (half kept, connection closed).
type sessions struct {
	held, object []byte
	done         bool
	fail         func(n int) string
	chunks       int
}

func (m *sessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		w.Header().Set("Location", "http://"+r.Host+"/upload/session?upload_id=1")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var first, last int
	var total string
	cr := r.Header.Get("Content-Range")
	if rest, ok := strings.CutPrefix(cr, "bytes */"); ok {
		total = rest
	} else if _, err := fmt.Sscanf(cr, "bytes %d-%d/%s", &first, &last, &total); err != nil || first != len(m.held) || last-first+1 != len(body) {
		http.Error(w, "bad Content-Range "+cr, http.StatusBadRequest)
		return
	}
	if len(body) > 0 {
		m.chunks++
		switch m.fail(m.chunks) {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case "half":
			m.held = append(m.held, body[:len(body)/2]...)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case "drop":
			m.held = append(m.held, body[:len(body)/2]...)
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		m.held = append(m.held, body...)
	}
	if m.done || total != "*" && total == strconv.Itoa(len(m.held)) {
		m.done, m.object = true, m.held
		io.WriteString(w, `{"name":"x"}`)
		return
	}
	if len(m.held) > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", len(m.held)-1))
	}
	w.WriteHeader(http.StatusPermanentRedirect)
}

// TestResumableUploadSurvivesFailures: chunks that fail (503, kept in
// part, a dropped connection) are resent from what the session reports it
// holds; the object ends up byte for byte, at every size around a chunk.
func TestResumableUploadSurvivesFailures(t *testing.T) {
	for _, size := range []int{chunkQuantum + 1, 2 * chunkQuantum, 5*chunkQuantum + 1234} {
		for _, mode := range []string{"503", "half", "drop"} {
			m := &sessions{fail: func(n int) string {
				if n == 2 {
					return mode
				}
				return ""
			}}
			srv := httptest.NewServer(m)
			b, err := openBucket(testBucket, Options{Endpoint: srv.URL, ChunkSize: chunkQuantum, Retry: httpx.Policy{Backoff: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			data := payload(size)
			err = gcblob.NewBucket(b).WriteAll(context.Background(), "big/object.bin", data, nil)
			srv.Close()
			if err != nil || !m.done || !bytes.Equal(m.object, data) {
				t.Fatalf("size %d, %s on the second chunk: err %v, done %v, %d of %d bytes, equal %v", size, mode, err, m.done, len(m.object), size, bytes.Equal(m.object, data))
			}
		}
	}
}

// TestResumableUploadAgainstEmulator: a many-chunk object through the
// emulator reads back whole, in full and in ranges.
func TestResumableUploadAgainstEmulator(t *testing.T) {
	e := startEmulator(t)
	b := gcblob.NewBucket(e.bucket(t, testBucket, chunkQuantum))
	data := payload(4*chunkQuantum + 77)
	if err := put(t, b, "big/object.bin", data, nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadAll(context.Background(), "big/object.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, equal %v: %v", len(got), bytes.Equal(got, data), err)
	}
	r, err := b.NewRangeReader(context.Background(), "big/object.bin", chunkQuantum-3, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(part, data[chunkQuantum-3:chunkQuantum+7]) || r.Size() != int64(len(data)) {
		t.Fatalf("range read %x (size %d)", part, r.Size())
	}
}

// TestRetriesAndGivesUp: transient statuses are retried (honouring
// Retry-After), a persistent one ends in one error with the status and
// the service's message, never the request URL.
func TestRetriesAndGivesUp(t *testing.T) {
	e := startEmulator(t)
	var n atomic.Int32
	hook := func(w http.ResponseWriter, r *http.Request) bool {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	e.hook.Store(&hook)
	b := gcblob.NewBucket(e.bucket(t, testBucket, 0))
	if err := put(t, b, "k", []byte("v"), nil); err != nil {
		t.Fatalf("write after two 429s: %v", err)
	}
	always := func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"error":{"code":502,"message":"upstream\nbroke"}}`)
		return true
	}
	e.hook.Store(&always)
	_, err := b.ReadAll(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "HTTP 502: upstream broke") || strings.Contains(err.Error(), e.URL) {
		t.Fatalf("persistent 502: %v", err)
	}
	refused := func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, strings.Repeat("x", 1<<20))
		return true
	}
	e.hook.Store(&refused)
	_, err = b.ReadAll(context.Background(), "k")
	if gcerrors.Code(err) != gcerrors.PermissionDenied {
		t.Fatalf("403: code %v (%v)", gcerrors.Code(err), err)
	}
}

// TestIfNotExistAfterLostAnswer: a conditional write whose answer was lost
// and whose retry finds the object is a success when the object holds our
// bytes, and a precondition failure when it holds someone else's.
func TestIfNotExistAfterLostAnswer(t *testing.T) {
	e := startEmulator(t)
	var lose atomic.Bool
	hook := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/upload/") && lose.CompareAndSwap(true, false) {
			// Let the emulator store it, then answer as if it had failed.
			rec := httptest.NewRecorder()
			e.fake.HTTPHandler().ServeHTTP(rec, r)
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	e.hook.Store(&hook)
	b := gcblob.NewBucket(e.bucket(t, testBucket, 0))
	lose.Store(true)
	if err := put(t, b, "once", []byte("ours"), &gcblob.WriterOptions{IfNotExist: true}); err != nil {
		t.Fatalf("our own lost write: %v", err)
	}
	err := put(t, b, "once", []byte("theirs"), &gcblob.WriterOptions{IfNotExist: true})
	if gcerrors.Code(err) != gcerrors.FailedPrecondition {
		t.Fatalf("second writer: code %v (%v)", gcerrors.Code(err), err)
	}
	got, _ := b.ReadAll(context.Background(), "once")
	if string(got) != "ours" {
		t.Fatalf("object holds %q", got)
	}
}

// TestSessionOnAnotherHostRefused: the client carries credentials, so an
// upload session URL pointing elsewhere is never followed.
func TestSessionOnAnotherHostRefused(t *testing.T) {
	e := startEmulator(t)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	hook := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && strings.Contains(r.URL.RawQuery, "uploadType=resumable") {
			w.Header().Set("Location", other.URL+"/upload?upload_id=x")
			w.WriteHeader(http.StatusOK)
			return true
		}
		return false
	}
	e.hook.Store(&hook)
	b := gcblob.NewBucket(e.bucket(t, testBucket, chunkQuantum))
	err := put(t, b, "big", payload(2*chunkQuantum+1), nil)
	if err == nil || !strings.Contains(err.Error(), "another host") || elsewhere.Load() != 0 {
		t.Fatalf("err %v, requests elsewhere %d", err, elsewhere.Load())
	}
}

// TestCanceledWriteLeavesNothing: a write canceled midway (after chunks
// went up) creates no object and cancels its session.
func TestCanceledWriteLeavesNothing(t *testing.T) {
	e := startEmulator(t)
	b := gcblob.NewBucket(e.bucket(t, testBucket, chunkQuantum))
	ctx, cancel := context.WithCancel(context.Background())
	w, err := b.NewWriter(ctx, "partial", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload(3 * chunkQuantum)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("close after cancel: %v", err)
	}
	if ok, err := b.Exists(context.Background(), "partial"); ok || err != nil {
		t.Fatalf("exists %v, err %v", ok, err)
	}
}

// TestKeysEscapedAsGcsblob: keys gcsblob escapes land under the same
// object names, so buckets written by either read the same.
func TestKeysEscapedAsGcsblob(t *testing.T) {
	e := startEmulator(t)
	b := gcblob.NewBucket(e.bucket(t, testBucket, 0))
	for key, name := range map[string]string{
		"a/../b":      "a/..__0x2f__b",
		"line\nbreak": "line__0xa__break",
		"plain/key":   "plain/key",
	} {
		if err := put(t, b, key, []byte(key), nil); err != nil {
			t.Fatal(err)
		}
		obj, err := e.fake.GetObject(testBucket, name)
		if err != nil || string(obj.Content) != key {
			t.Fatalf("key %q: object %q: %v", key, name, err)
		}
		sum := md5.Sum([]byte(key))
		attrs, err := b.Attributes(context.Background(), key)
		if err != nil || !bytes.Equal(attrs.MD5, sum[:]) {
			t.Fatalf("key %q attributes: %v", key, err)
		}
	}
}

func TestOpenBucketRejects(t *testing.T) {
	for _, c := range []struct{ bucket, endpoint string }{
		{"UPPER", ""}, {"a/b", ""}, {"ab", ""}, {"ok-bucket", "ftp://host"}, {"ok-bucket", "http://user:pw@host"}, {"ok-bucket", "http://host?x=1"},
	} {
		if _, err := OpenBucket(c.bucket, Options{Endpoint: c.endpoint}); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("OpenBucket(%q, %q): %v", c.bucket, c.endpoint, err)
		}
	}
}

// TestCopyThatNeverEnds: a service that answers "not done" with a new
// token forever gets a bounded number of rounds and an error.
func TestCopyThatNeverEnds(t *testing.T) {
	e := startEmulator(t)
	var rounds atomic.Int32
	hook := func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/rewriteTo/") {
			n := rounds.Add(1)
			fmt.Fprintf(w, `{"done":false,"rewriteToken":"t%d"}`, n)
			return true
		}
		return false
	}
	e.hook.Store(&hook)
	saved := maxCopyRounds
	maxCopyRounds = 5
	defer func() { maxCopyRounds = saved }()
	b := gcblob.NewBucket(e.bucket(t, testBucket, 0))
	if err := put(t, b, "src", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	err := b.Copy(context.Background(), "dst", "src", nil)
	if err == nil || !strings.Contains(err.Error(), "did not finish in 5 rounds") || rounds.Load() != 5 {
		t.Fatalf("err %v after %d rounds", err, rounds.Load())
	}
}

// TestNoRedirectToAnotherHost: a redirect to another host is not followed
// (the client would carry its credentials there); the read fails with the
// redirect's status.
func TestNoRedirectToAnotherHost(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer srv.Close()
	b, err := openBucket(testBucket, Options{Endpoint: srv.URL, Retry: httpx.Policy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gcblob.NewBucket(b).ReadAll(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "HTTP 302") || elsewhere.Load() != 0 {
		t.Fatalf("err %v, requests elsewhere %d", err, elsewhere.Load())
	}
}
