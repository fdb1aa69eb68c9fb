package blobtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// GCS is a running Cloud Storage emulator: fake-gcs-server (in memory)
// behind a loopback listener, reached by Google's real storage client
// through assay's JSON-API driver (core/blob/gcs) when STORAGE_EMULATOR_HOST
// names it.
type GCS struct {
	Host   string // 127.0.0.1:PORT, for STORAGE_EMULATOR_HOST
	Bucket string
	// Stalled receives the object name of an upload Stall held.
	Stalled chan string
}

// GCSOptions shape the emulator's failures.
type GCSOptions struct {
	// Stall, when set, is called with each upload's object name; for one
	// it returns true, the server takes the body, signals Stalled and
	// holds the request until the client goes away (for SIGKILL tests).
	Stall func(name string) bool
}

// StartGCS runs an emulator with one bucket until the test ends.
func StartGCS(t testing.TB, bucket string, opt GCSOptions) *GCS {
	t.Helper()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Scheme: "http", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Stop)
	fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	g := &GCS{Bucket: bucket, Stalled: make(chan string, 16)}
	h := fake.HTTPHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Stall != nil && strings.HasPrefix(r.URL.Path, "/upload/") {
			if name := r.URL.Query().Get("name"); name != "" && opt.Stall(name) {
				buf := make([]byte, 32<<10)
				for {
					if _, err := r.Body.Read(buf); err != nil {
						break
					}
				}
				g.Stalled <- name
				<-r.Context().Done()
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.Host = strings.TrimPrefix(srv.URL, "http://")
	return g
}

// URL is the gs:// URL of prefix in the bucket.
func (g *GCS) URL(prefix string) string {
	return "gs://" + g.Bucket + "/" + strings.TrimPrefix(prefix, "/")
}

// Env is the environment a client of this emulator needs.
func (g *GCS) Env() []string { return []string{"STORAGE_EMULATOR_HOST=" + g.Host} }

// Getenv reads Env (for blob.Options.Getenv).
func (g *GCS) Getenv(k string) string {
	if k == "STORAGE_EMULATOR_HOST" {
		return g.Host
	}
	return ""
}
