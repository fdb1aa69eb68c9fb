package otlpout

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func oneSpan(t *testing.T) []*SpanData {
	t.Helper()
	sp, err := Span(rec(t, receipts[0]), Context{TraceID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return []*SpanData{sp}
}

func testExporter(t *testing.T, url string, env ...string) *Exporter {
	t.Helper()
	e, err := NewExporter(context.Background(), Options{Endpoint: url, Getenv: envOf(env...), retryMin: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// Retries as the official exporter: 429/502/503/504 and connection errors
// again with backoff (Retry-After honoured), any other status at once, the
// error quoting a short snippet of the body; a partial success is
// reported, not an error.
func TestSendRetries(t *testing.T) {
	t.Parallel()
	type answer struct {
		status int
		header [2]string
		body   string
		ctype  string
	}
	ps, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "span too old\n\x00 sk-ant-SECRETSECRETSECRET123"}})
	for _, tc := range []struct {
		name      string
		answers   []answer
		calls     int
		minWait   time.Duration
		err       string
		rejected  int64
		rejectMsg string
	}{
		{name: "503 then 200", answers: []answer{{status: 503}, {status: 200}}, calls: 2},
		{name: "502 504 200", answers: []answer{{status: 502}, {status: 504}, {status: 200}}, calls: 3},
		{name: "429 Retry-After", answers: []answer{{status: 429, header: [2]string{"Retry-After", "1"}}, {status: 200}}, calls: 2, minWait: time.Second},
		{name: "400 fails at once", answers: []answer{{status: 400, body: "bad <b>span</b>\n\ttrace id"}}, calls: 1, err: "answered 400 Bad Request: bad <b>span</b> trace id"},
		{name: "401 fails at once", answers: []answer{{status: 401}}, calls: 1, err: "answered 401 Unauthorized: (empty body)"},
		{name: "400 google.rpc.Status", answers: []answer{{status: 400, ctype: "application/x-protobuf", body: string([]byte{0x08, 0x03, 0x12, 0x07, 'b', 'a', 'd', ' ', 'i', 'd', 's'})}}, calls: 1, err: "400 Bad Request: bad ids"},
		{name: "retry-after past the timeout", answers: []answer{{status: 503, header: [2]string{"Retry-After", "60"}}}, calls: 1, err: "gave up after 1 attempts"},
		{name: "partial success proto", answers: []answer{{status: 200, ctype: "application/x-protobuf", body: string(ps)}}, calls: 1, rejected: 1, rejectMsg: "span too old [redacted]"},
		{name: "partial success json", answers: []answer{{status: 200, ctype: "application/json", body: `{"partialSuccess":{"rejectedSpans":"2","errorMessage":"x"}}`}}, calls: 1, rejected: 2, rejectMsg: "x"},
		{name: "empty success json", answers: []answer{{status: 200, ctype: "application/json", body: `{}`}}, calls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				i := int(n.Add(1)) - 1
				a := tc.answers[min(i, len(tc.answers)-1)]
				if a.header[0] != "" {
					w.Header().Set(a.header[0], a.header[1])
				}
				if a.ctype != "" {
					w.Header().Set("Content-Type", a.ctype)
				}
				w.WriteHeader(a.status)
				_, _ = io.WriteString(w, a.body)
			}))
			defer srv.Close()
			e := testExporter(t, srv.URL, "OTEL_EXPORTER_OTLP_TIMEOUT", "5000")
			start := time.Now()
			rej, msg, err := e.Send(context.Background(), oneSpan(t))
			took := time.Since(start)
			if int(n.Load()) != tc.calls || took < tc.minWait {
				t.Fatalf("%d calls in %v, want %d (at least %v); err %v", n.Load(), took, tc.calls, tc.minWait, err)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
			if rej != tc.rejected || msg != tc.rejectMsg {
				t.Fatalf("rejected %d %q, want %d %q", rej, msg, tc.rejected, tc.rejectMsg)
			}
		})
	}
}

// A connection error is retried until the timeout, then reported with the
// endpoint (never its headers).
func TestSendConnectionError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	e := testExporter(t, url, "OTEL_EXPORTER_OTLP_TIMEOUT", "300", "OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=sk-ant-SECRETSECRETSECRET123")
	start := time.Now()
	_, _, err := e.Send(context.Background(), oneSpan(t))
	if err == nil || !strings.Contains(err.Error(), "sending to the OTLP endpoint "+url) || strings.Contains(err.Error(), "SECRET") || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "attempts") {
		t.Fatalf("not retried: %v", err)
	}
}

// A huge or endless error body is read only up to the bound, and quoted
// as a short snippet.
func TestSendEndlessBody(t *testing.T) {
	t.Parallel()
	var sent atomic.Int64
	for _, status := range []int{400, 200} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(status)
			chunk := bytes.Repeat([]byte("A"), 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				if sent.Add(int64(len(chunk))) > 1<<30 {
					return
				}
			}
		}))
		e := testExporter(t, srv.URL)
		_, _, err := e.Send(context.Background(), oneSpan(t))
		srv.Close()
		if status == 400 && (err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "AAAA…")) {
			t.Fatalf("%d: %v", status, err)
		}
		if status == 200 && err != nil {
			t.Fatalf("%d: %v", status, err)
		}
	}
	if s := sent.Load(); s > 64<<20 {
		t.Fatalf("the server could write %d bytes: the body was read unbounded", s)
	}
}

// Headers, gzip and the JSON content type reach the endpoint.
func TestSendHeadersGzipJSON(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{false, true} {
		var mu sync.Mutex
		var got http.Header
		var spans int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, "not gzip", 400)
				return
			}
			b, _ := io.ReadAll(zr)
			req := ptraceotlp.NewExportRequest()
			if asJSON {
				err = req.UnmarshalJSON(b)
			} else {
				err = req.UnmarshalProto(b)
			}
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			mu.Lock()
			got, spans = r.Header.Clone(), req.Traces().SpanCount()
			mu.Unlock()
		}))
		proto := "http/protobuf"
		if asJSON {
			proto = "http/json"
		}
		e := testExporter(t, srv.URL, "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", "OTEL_EXPORTER_OTLP_PROTOCOL", proto, "OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k%3Dv,x-tenant=t1")
		_, _, err := e.Send(context.Background(), oneSpan(t))
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		ct := "application/x-protobuf"
		if asJSON {
			ct = "application/json"
		}
		if spans != 1 || got.Get("Content-Encoding") != "gzip" || got.Get("Content-Type") != ct || got.Get("X-Api-Key") != "k=v" || got.Get("X-Tenant") != "t1" || !strings.HasPrefix(got.Get("User-Agent"), "assay/") {
			t.Fatalf("json=%v: %d spans, headers %v", asJSON, spans, got)
		}
	}
}

// OTEL_EXPORTER_OTLP_CERTIFICATE trusts the endpoint's certificate; the
// client certificate variables make the exporter present its own.
func TestSendTLS(t *testing.T) {
	t.Parallel()
	clientPEM, clientKey, clientCert := testCert(t)
	var peer atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			peer.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
	}))
	pool := x509.NewCertPool()
	pool.AddCert(clientCert)
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted attempt's handshake errors
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	crt, key := write("c.pem", clientPEM), write("k.pem", clientKey)

	// Without the CA: the endpoint's certificate is not trusted (not
	// retried: it would be the same certificate).
	if _, _, err := testExporter(t, srv.URL).Send(context.Background(), oneSpan(t)); err == nil || strings.Contains(err.Error(), "attempts") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if _, _, err := testExporter(t, srv.URL, "OTEL_EXPORTER_OTLP_CERTIFICATE", ca).Send(context.Background(), oneSpan(t)); err != nil || peer.Load() != nil {
		t.Fatalf("CA: %v, peer %v", err, peer.Load())
	}
	if _, _, err := testExporter(t, srv.URL, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", ca, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", crt, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", key).Send(context.Background(), oneSpan(t)); err != nil || peer.Load() != "assay-test-client" {
		t.Fatalf("mTLS: %v, peer %v", err, peer.Load())
	}
}

// Export reports a partial success in its result; a refused batch is an
// error naming the status.
func TestExportPartialSuccessAndFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"partialSuccess":{"rejectedSpans":"1","errorMessage":"one too old"}}`)
	}))
	defer srv.Close()
	res, err := Export(context.Background(), Options{Endpoint: srv.URL, JSON: true, Getenv: envOf()}, Context{TraceID: "t"}, each(t))
	if err != nil || res.Spans != 4 || res.Rejected != 1 || res.RejectedMessage != "one too old" {
		t.Fatalf("%+v %v", res, err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 413) }))
	defer bad.Close()
	res, err = Export(context.Background(), Options{Endpoint: bad.URL, Getenv: envOf()}, Context{TraceID: "t"}, each(t))
	if err == nil || res.Spans != 0 || !strings.Contains(err.Error(), "413") {
		t.Fatalf("%+v %v", res, err)
	}
}

// Live never blocks the caller: with the endpoint stuck, spans past the
// queue are dropped and counted, and Close gives up after its bound with
// the message it always had.
func TestLiveDropsAndCloseBound(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	l, err := StartLive(context.Background(), Options{Endpoint: srv.URL, Getenv: envOf()}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	l.closeWait = 300 * time.Millisecond
	r := rec(t, receipts[0])
	start := time.Now()
	const n = liveQueue + batch + 700
	for i := 0; i < n; i++ {
		l.Receipt("trace_live", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Receipt blocked: %v for %d", d, n)
	}
	if l.Dropped() == 0 || l.Queued()+l.Dropped() != n {
		t.Fatalf("queued %d dropped %d of %d", l.Queued(), l.Dropped(), n)
	}
	start = time.Now()
	err = l.Close()
	if err == nil || err.Error() != "the OTLP endpoint did not take the spans within 10 s" || time.Since(start) > 3*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	l.Receipt("trace_live", r) // after Close: dropped, no panic
	if l.Close() != nil {
		t.Fatal("second Close")
	}
}

// Live sends full batches at once and the rest on Close, reporting export
// failures and drops in Close's error.
func TestLiveBatchesAndErrors(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sizes []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		sizes = append(sizes, req.Traces().SpanCount())
		mu.Unlock()
	}))
	defer srv.Close()
	l, err := StartLive(context.Background(), Options{Endpoint: srv.URL, Getenv: envOf()}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	r := rec(t, receipts[0])
	for i := 0; i < batch+10; i++ {
		l.Receipt("trace_live", r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	total := 0
	for _, s := range sizes {
		if s > batch {
			t.Errorf("batch of %d", s)
		}
		total += s
	}
	mu.Unlock()
	if total != batch+10 {
		t.Fatalf("%d spans in %v", total, sizes)
	}

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such tenant", 404) }))
	defer refuse.Close()
	l, err = StartLive(context.Background(), Options{Endpoint: refuse.URL, Getenv: envOf()}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	l.Receipt("trace_live", r)
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "1 of 1 spans were not exported") || !strings.Contains(err.Error(), "404 Not Found: no such tenant") {
		t.Fatalf("%v", err)
	}
}
