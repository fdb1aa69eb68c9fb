// Package blobtest runs a real S3-compatible server for tests: gofakes3
// (in memory) on a loopback HTTP listener, reached by the real AWS SDK
// client through gocloud's s3blob, with hooks that drop or stall uploads
// the way a failing network or a killed process would.
package blobtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials the test server accepts (gofakes3 checks none; the client
// signs with them, and the scrubbing tests look for them in messages).
const (
	AccessKey = "AKIATESTBLOB0000"
	SecretKey = "blobtest-secret-key-do-not-print-0123456789"
)

// Options shape the server's failures.
type Options struct {
	// DropPutAfter, when > 0, closes the connection in the middle of the
	// PUT that would take the bytes uploaded past this many (and every
	// PUT after it), as a network failure or a dead proxy does.
	DropPutAfter int64
	// Stall, when set, is called with each PUT's object key; for a key
	// it returns true, the server signals Stalled and holds the request
	// until the client goes away (for SIGKILL tests).
	Stall func(key string) bool
	// Fail, when set, answers a request it returns a non-empty body for
	// with 403 and that body (for error-scrubbing tests).
	Fail func(r *http.Request) string
}

// S3 is a running server.
type S3 struct {
	Endpoint string // http://127.0.0.1:PORT
	Bucket   string
	Stalled  chan string // receives the key of a stalled PUT
	srv      *httptest.Server
	put      atomic.Int64
}

// Start runs a server with one bucket until the test ends.
func Start(t testing.TB, bucket string, opt Options) *S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s := &S3{Bucket: bucket, Stalled: make(chan string, 16)}
	fake := gofakes3.New(backend).Server()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Fail != nil {
			if body := opt.Fail(r); body != "" {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, body)
				return
			}
		}
		if r.Method == http.MethodPut {
			key := strings.TrimPrefix(r.URL.Path, "/"+bucket+"/")
			if opt.Stall != nil && opt.Stall(key) {
				// Take the body (the server only notices a client gone
				// once it has), then hold the answer.
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					return
				}
				s.Stalled <- key
				<-r.Context().Done()
				return
			}
			if opt.DropPutAfter > 0 {
				body, _ := io.ReadAll(r.Body)
				if s.put.Add(int64(len(body))) > opt.DropPutAfter {
					if hj, ok := w.(http.Hijacker); ok {
						if c, _, err := hj.Hijack(); err == nil {
							c.Close()
						}
					}
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	s.Endpoint = s.srv.URL
	return s
}

// URL is the s3:// URL of prefix on this server.
func (s *S3) URL(prefix string) string {
	q := url.Values{"endpoint": {s.Endpoint}, "use_path_style": {"true"}, "region": {"us-east-1"}}
	return "s3://" + s.Bucket + "/" + strings.TrimPrefix(prefix, "/") + "?" + q.Encode()
}

// Env is the environment a client of this server needs.
func (s *S3) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=us-east-1"}
}

// Getenv reads Env (for blob.Options.Getenv).
func (s *S3) Getenv(k string) string {
	for _, kv := range s.Env() {
		if strings.HasPrefix(kv, k+"=") {
			return kv[len(k)+1:]
		}
	}
	return ""
}
