package otlpout

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// The variables are read as the official exporter read them; the TRACES_
// variant wins; a bad value is one exit-3 line naming the variable and
// never a header value.
func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	const secret = "sk-ant-SECRETSECRETSECRET123"
	for _, tc := range []struct {
		name     string
		o        Options
		env      []string
		url      string
		json     bool
		gzip     bool
		timeout  time.Duration
		headers  string
		bad      string // substring of the error, "" = ok
		badNames string // the variable the error must name
	}{
		{name: "option endpoint", o: Options{Endpoint: "http://h:4318/base"}, url: "http://h:4318/base/v1/traces", timeout: defaultTimeout},
		{name: "option endpoint kept", o: Options{Endpoint: "https://h/v1/traces"}, url: "https://h/v1/traces", timeout: defaultTimeout},
		{name: "option beats env", o: Options{Endpoint: "http://h:1"}, env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other/x"}, url: "http://h:1/v1/traces", timeout: defaultTimeout},
		{name: "base env", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318/base/"}, url: "http://h:4318/base/v1/traces", timeout: defaultTimeout},
		{name: "base env no path", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://h"}, url: "https://h/v1/traces", timeout: defaultTimeout},
		{name: "per-signal as is", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:9/custom/path"}, url: "http://b:9/custom/path", timeout: defaultTimeout},
		{name: "per-signal no path", env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:9"}, url: "http://b:9/", timeout: defaultTimeout},
		{name: "nothing", url: defaultEndpoint, timeout: defaultTimeout},
		{name: "bad option endpoint", o: Options{Endpoint: "ftp://x"}, bad: "invalid OTLP endpoint"},
		{name: "bad env endpoint", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4318"}, bad: "not an http", badNames: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "bad traces endpoint", env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"}, bad: "not an http", badNames: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{name: "endpoint user info not shown", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://user:" + secret + "@h"}, bad: "not an http", badNames: "OTEL_EXPORTER_OTLP_ENDPOINT"},

		{name: "json", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://h", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, url: "http://h/v1/traces", json: true, timeout: defaultTimeout},
		{name: "traces protocol wins", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://h", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"}, url: "http://h/v1/traces", timeout: defaultTimeout},
		{name: "JSON option", o: Options{Endpoint: "http://h", JSON: true}, env: []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}, url: "http://h/v1/traces", json: true, timeout: defaultTimeout},
		{name: "grpc", env: []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, bad: "not supported", badNames: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "bad traces protocol", env: []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/xml"}, bad: "not supported", badNames: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},

		{name: "gzip", env: []string{"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}, url: defaultEndpoint, gzip: true, timeout: defaultTimeout},
		{name: "traces compression wins", env: []string{"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none"}, url: defaultEndpoint, timeout: defaultTimeout},
		{name: "bad compression", env: []string{"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"}, bad: "not supported", badNames: "OTEL_EXPORTER_OTLP_COMPRESSION"},

		{name: "timeout", env: []string{"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"}, url: defaultEndpoint, timeout: 2500 * time.Millisecond},
		{name: "traces timeout wins", env: []string{"OTEL_EXPORTER_OTLP_TIMEOUT", "2500", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", " 7 "}, url: defaultEndpoint, timeout: 7 * time.Millisecond},
		{name: "timeout 0 = none", env: []string{"OTEL_EXPORTER_OTLP_TIMEOUT", "0"}, url: defaultEndpoint, timeout: 0},
		{name: "timeout in seconds", env: []string{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"}, bad: "not a timeout", badNames: "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{name: "negative timeout", env: []string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1"}, bad: "not a timeout", badNames: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"},

		{name: "headers", env: []string{"OTEL_EXPORTER_OTLP_HEADERS", " x-api-key = " + secret + " ,Authorization=Basic%20abc%3D,,"}, url: defaultEndpoint, timeout: defaultTimeout, headers: "x-api-key=" + secret + "|Authorization=Basic abc="},
		{name: "traces headers replace", env: []string{"OTEL_EXPORTER_OTLP_HEADERS", "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"}, url: defaultEndpoint, timeout: defaultTimeout, headers: "b=2"},
		{name: "header without =", env: []string{"OTEL_EXPORTER_OTLP_HEADERS", "a=1," + secret}, bad: "entry 2 is not key=value", badNames: "OTEL_EXPORTER_OTLP_HEADERS"},
		{name: "bad header name", env: []string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x key=" + secret}, bad: "entry 1", badNames: "OTEL_EXPORTER_OTLP_TRACES_HEADERS"},
		{name: "bad header escape", env: []string{"OTEL_EXPORTER_OTLP_HEADERS", "k=" + secret + "%zz"}, bad: "percent-encoding", badNames: "OTEL_EXPORTER_OTLP_HEADERS"},
		{name: "header line break", env: []string{"OTEL_EXPORTER_OTLP_HEADERS", "k=" + secret + "%0D%0AX-Evil: 1"}, bad: "line break", badNames: "OTEL_EXPORTER_OTLP_HEADERS"},

		{name: "missing CA", env: []string{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"}, bad: "cannot read", badNames: "OTEL_EXPORTER_OTLP_CERTIFICATE"},
		{name: "CA not PEM", env: []string{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "@notpem"}, bad: "no PEM certificate", badNames: "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"},
		{name: "client cert without key", env: []string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/x.pem"}, bad: "client certificate and its key", badNames: "OTEL_EXPORTER_OTLP_CLIENT_KEY"},
		{name: "client key not PEM", env: []string{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "@notpem", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "@notpem"}, bad: "not a usable certificate", badNames: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Getenv = envOf(tc.env...)
			o.readFile = func(p string) ([]byte, error) {
				if p == "@notpem" {
					return []byte("not a certificate " + secret), nil
				}
				return nil, os.ErrNotExist
			}
			c, err := o.config()
			if tc.bad != "" {
				if err == nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.bad) || !strings.Contains(err.Error(), tc.badNames) {
					t.Fatalf("err %v (code %d), want exit 3 with %q naming %s", err, exit.Code(err), tc.bad, tc.badNames)
				}
				var xe *exit.Error
				if !errors.As(err, &xe) || strings.Contains(xe.Error()+xe.Fix, "SECRET") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error shows a secret or is not one line: %v / %q", err, xe.Fix)
				}
				oc := o
				if !oc.Configured() {
					oc.Endpoint = "http://h"
				}
				if oc.Check() == nil {
					t.Fatal("Check accepts what config refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var hs []string
			for _, h := range c.headers {
				hs = append(hs, h[0]+"="+h[1])
			}
			if c.url != tc.url || c.json != tc.json || c.gzip != tc.gzip || c.timeout != tc.timeout || strings.Join(hs, "|") != tc.headers {
				t.Fatalf("got url %s json %v gzip %v timeout %v headers %q", c.url, c.json, c.gzip, c.timeout, hs)
			}
		})
	}
}

// testCert makes a self-signed certificate and key (PEM) for host
// 127.0.0.1, usable as a client certificate.
func testCert(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "assay-test-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), cert
}

// The CA and client certificate variables build the TLS config: the
// endpoint's certificate verifies against the CA file, and the client
// presents its certificate (mTLS).
func TestConfigTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM, _ := testCert(t)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, crt, key := write("ca.pem", certPEM), write("c.pem", certPEM), write("k.pem", keyPEM)
	c, err := Options{Getenv: envOf("OTEL_EXPORTER_OTLP_CERTIFICATE", ca, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", crt, "OTEL_EXPORTER_OTLP_CLIENT_KEY", key)}.config()
	if err != nil {
		t.Fatal(err)
	}
	if c.tls == nil || c.tls.RootCAs == nil || len(c.tls.Certificates) != 1 || c.tls.MinVersion != tls.VersionTLS12 {
		t.Fatalf("%+v", c.tls)
	}
}

// With no endpoint configured, Check refuses only a bad protocol (the
// other variables may be meant for another program, e.g. the app that
// assay run starts).
func TestCheckUnconfigured(t *testing.T) {
	t.Parallel()
	if err := (Options{Getenv: envOf("OTEL_EXPORTER_OTLP_HEADERS", "garbage", "OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")}).Check(); err != nil {
		t.Fatal(err)
	}
	if err := (Options{Getenv: envOf("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")}).Check(); exit.Code(err) != exit.BadInput {
		t.Fatalf("%v", err)
	}
	if err := (Options{Getenv: envOf("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h", "OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")}).Check(); exit.Code(err) != exit.BadInput {
		t.Fatalf("%v", err)
	}
}
