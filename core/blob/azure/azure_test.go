package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/drivertest"
	"gocloud.dev/gcerrors"

	"github.com/assay-dev/assay/core/blob/blobtest"
	"github.com/assay-dev/assay/core/blob/internal/httpx"
)

func TestMain(m *testing.M) {
	stop := blobtest.ShareAzurite()
	code := m.Run()
	stop()
	os.Exit(code)
}

func azuriteKey(t testing.TB) []byte {
	k, err := base64.StdEncoding.DecodeString(blobtest.AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// open reaches a container of az (through its proxy) with the development
// account's Shared Key, through an optional fault-injecting front.
func open(t testing.TB, host, container string, block int) *bucket {
	t.Helper()
	b, err := openBucket(container, Options{
		ServiceURL: "http://" + host + "/" + blobtest.AzuriteAccount,
		Account:    blobtest.AzuriteAccount, Key: azuriteKey(t),
		BlockSize: block, Retry: httpx.Policy{Backoff: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type harness struct {
	az *blobtest.Azure
	t  *testing.T
}

func (h *harness) MakeDriver(context.Context) (driver.Bucket, error) {
	// Small blocks, so the suite's larger blobs go up as blocks and a list.
	return open(h.t, h.az.Host, h.az.Container, 1024), nil
}

func (h *harness) MakeDriverForNonexistentBucket(context.Context) (driver.Bucket, error) {
	return open(h.t, h.az.Host, "no-such-container", 0), nil
}

func (h *harness) HTTPClient() *http.Client { return nil }
func (h *harness) SupportsCopy() bool       { return true }

// Azurite cuts prefixes at the first byte of a multi-byte delimiter ("abc",
// and "\\", which is escaped to "__0x5c__"); Azure does not, and assay
// lists without one.
func (h *harness) SupportsNonSlashDelimiters() bool { return false }
func (h *harness) SkipDownloadAt() bool             { return false }
func (h *harness) Close()                           {}

// TestConformance runs gocloud's driver conformance suite (the one
// azureblob passes) against Azurite, which checks every Shared Key
// signature.
func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, func(context.Context, *testing.T) (drivertest.Harness, error) {
		return &harness{az: blobtest.StartAzurite(t, "conf", blobtest.AzureOptions{}), t: t}, nil
	}, nil)
}

// front puts a fault-injecting proxy before Azurite's.
func front(t *testing.T, az *blobtest.Azure, hook func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	target, _ := url.Parse("http://" + az.Host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook(w, r) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>9)
	}
	return p
}

// TestBlocksSurviveFailures: a block or the block list that fails (503, a
// dropped connection) is sent again; the blob ends up byte for byte.
func TestBlocksSurviveFailures(t *testing.T) {
	az := blobtest.StartAzurite(t, "faults", blobtest.AzureOptions{})
	var puts, failed atomic.Int32
	host := front(t, az, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		switch puts.Add(1) {
		case 2:
			failed.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		case 4, 6: // the fourth block; the block list
			failed.Add(1)
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return true
		}
		return false
	})
	b := gcblob.NewBucket(open(t, host, az.Container, 64<<10))
	data := payload(3*64<<10 + 99) // four blocks
	if err := b.WriteAll(context.Background(), "big/object.bin", data, nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadAll(context.Background(), "big/object.bin")
	if err != nil || !bytes.Equal(got, data) || failed.Load() != 3 {
		t.Fatalf("read back %d of %d bytes, equal %v, %d failures injected: %v", len(got), len(data), bytes.Equal(got, data), failed.Load(), err)
	}
	attrs, err := b.Attributes(context.Background(), "big/object.bin")
	if err != nil || attrs.Size != int64(len(data)) || len(attrs.MD5) != 16 {
		t.Fatalf("attributes %+v: %v", attrs, err)
	}
}

// TestIfNotExistAfterLostAnswer: a conditional write whose answer was lost
// and whose retry finds the blob is a success when the blob holds our
// bytes, and a precondition failure when it holds someone else's.
func TestIfNotExistAfterLostAnswer(t *testing.T) {
	az := blobtest.StartAzurite(t, "lost", blobtest.AzureOptions{})
	target, _ := url.Parse("http://" + az.Host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var lose atomic.Bool
	host := front(t, az, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && lose.CompareAndSwap(true, false) {
			proxy.ServeHTTP(httptest.NewRecorder(), r) // stored, answer lost
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	b := gcblob.NewBucket(open(t, host, az.Container, 0))
	lose.Store(true)
	if err := b.WriteAll(context.Background(), "once", []byte("ours"), &gcblob.WriterOptions{IfNotExist: true}); err != nil {
		t.Fatalf("our own lost write: %v", err)
	}
	err := b.WriteAll(context.Background(), "once", []byte("theirs"), &gcblob.WriterOptions{IfNotExist: true})
	if gcerrors.Code(err) != gcerrors.FailedPrecondition {
		t.Fatalf("second writer: code %v (%v)", gcerrors.Code(err), err)
	}
	if got, _ := b.ReadAll(context.Background(), "once"); string(got) != "ours" {
		t.Fatalf("blob holds %q", got)
	}
}

// TestAuthorization: a SAS rides in the query (and is never in an
// error), a token in a bearer header over https only; a wrong key is
// permission denied.
func TestAuthorization(t *testing.T) {
	var seen atomic.Pointer[http.Request]
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r)
		w.Header().Set("x-ms-error-code", "AuthorizationFailure")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0"?><Error><Code>AuthorizationFailure</Code><Message>no
RequestId:1</Message></Error>`)
	}))
	defer srv.Close()
	sas, err := openBucket("c-1", Options{ServiceURL: srv.URL + "/", SAS: "?sv=2025&sig=SECRETSIG", Client: srv.Client(), Retry: httpx.Policy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gcblob.NewBucket(sas).ReadAll(context.Background(), "k")
	if r := seen.Load(); r == nil || r.URL.Query().Get("sig") != "SECRETSIG" || r.Header.Get("Authorization") != "" {
		t.Fatalf("SAS request: %+v", r)
	}
	if gcerrors.Code(err) != gcerrors.PermissionDenied || strings.Contains(err.Error(), "SECRETSIG") || !strings.Contains(err.Error(), "HTTP 403: no") {
		t.Fatalf("SAS error: %v", err)
	}
	tok, err := openBucket("c-1", Options{ServiceURL: srv.URL, Client: srv.Client(), Retry: httpx.Policy{MaxAttempts: 1},
		Token: func(context.Context) (string, error) { return "TOKEN", nil }})
	if err != nil {
		t.Fatal(err)
	}
	gcblob.NewBucket(tok).ReadAll(context.Background(), "k")
	if r := seen.Load(); r.Header.Get("Authorization") != "Bearer TOKEN" || r.Header.Get("x-ms-version") != APIVersion {
		t.Fatalf("token request headers: %v", r.Header)
	}
	if _, err := openBucket("c-1", Options{ServiceURL: "http://127.0.0.1:1", Token: func(context.Context) (string, error) { return "T", nil }}); err == nil {
		t.Fatal("a token over plain http was accepted")
	}

	az := blobtest.StartAzurite(t, "auth", blobtest.AzureOptions{})
	bad, _ := openBucket(az.Container, Options{ServiceURL: "http://" + az.Host + "/" + blobtest.AzuriteAccount, Account: blobtest.AzuriteAccount,
		Key: []byte("not the key"), Retry: httpx.Policy{MaxAttempts: 1}})
	err = gcblob.NewBucket(bad).WriteAll(context.Background(), "k", []byte("v"), nil)
	if gcerrors.Code(err) != gcerrors.PermissionDenied {
		t.Fatalf("wrong key: code %v (%v)", gcerrors.Code(err), err)
	}
}

// TestKeysEscapedAsAzureblob: keys azureblob escapes land under the same
// blob names, so containers written by either read the same.
func TestKeysEscapedAsAzureblob(t *testing.T) {
	az := blobtest.StartAzurite(t, "keys", blobtest.AzureOptions{})
	b := gcblob.NewBucket(open(t, az.Host, az.Container, 0))
	want := map[string]string{
		"a/../b":     "a/..__0x2f__b",
		"back\\lash": "back__0x5c__lash",
		"trailing/":  "trailing__0x2f__",
		"plain/key":  "plain/key",
	}
	for key, name := range want {
		if err := b.WriteAll(context.Background(), key, []byte(key), nil); err != nil {
			t.Fatal(err)
		}
		if escapeKey(key, false) != name {
			t.Fatalf("key %q escapes to %q, want %q", key, escapeKey(key, false), name)
		}
		if got, err := b.ReadAll(context.Background(), key); err != nil || string(got) != key {
			t.Fatalf("key %q reads %q: %v", key, got, err)
		}
	}
	objs, _, err := b.ListPage(context.Background(), gcblob.FirstPageToken, 100, nil)
	if err != nil || len(objs) != len(want) {
		t.Fatalf("listed %d objects: %v", len(objs), err)
	}
	for _, o := range objs {
		if _, ok := want[o.Key]; !ok {
			t.Fatalf("listed key %q", o.Key)
		}
	}
}

func TestOpenBucketRejects(t *testing.T) {
	for _, c := range []struct{ container, endpoint string }{
		{"UPPER", "https://a.blob.core.windows.net"}, {"a/b", "https://h"}, {"ab", "https://h"}, {"a--b", "https://h"},
		{"ok-c", "ftp://h"}, {"ok-c", "https://user:pw@h"}, {"ok-c", "https://h?sig=x"},
	} {
		if _, err := OpenBucket(c.container, Options{ServiceURL: c.endpoint}); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("OpenBucket(%q, %q): %v", c.container, c.endpoint, err)
		}
	}
}

// TestCopyPendingForever: a service that reports a copy pending forever
// gets a bounded number of checks and an error.
func TestCopyPendingForever(t *testing.T) {
	az := blobtest.StartAzurite(t, "pending", blobtest.AzureOptions{})
	var checks atomic.Int32
	host := front(t, az, func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPut && r.Header.Get("x-ms-copy-source") != "":
			w.Header().Set("x-ms-copy-status", "pending")
			w.WriteHeader(http.StatusAccepted)
			return true
		case r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/dst"):
			checks.Add(1)
			w.Header().Set("x-ms-copy-status", "pending")
			return true
		}
		return false
	})
	saved := maxCopyPolls
	maxCopyPolls = 3
	defer func() { maxCopyPolls = saved }()
	b := gcblob.NewBucket(open(t, host, az.Container, 0))
	if err := b.WriteAll(context.Background(), "src", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	err := b.Copy(context.Background(), "dst", "src", nil)
	if err == nil || !strings.Contains(err.Error(), "still pending after 3 checks") || checks.Load() != 3 {
		t.Fatalf("err %v after %d checks", err, checks.Load())
	}
}
