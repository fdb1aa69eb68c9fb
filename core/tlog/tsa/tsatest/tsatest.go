// Package tsatest runs a local RFC 3161 time-stamping authority for tests:
// `openssl ts -reply` behind an HTTP handler on loopback, with its own CA.
package tsatest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TSA is an RFC 3161 authority: `openssl ts -reply` behind an HTTP
// handler on loopback, with its own CA.
type TSA struct {
	URL   string
	CAPEM []byte
	Dir   string
}

// OpenSSL runs openssl in dir.
func OpenSSL(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// NewCA makes a CA and a TSA certificate under dir/name* (one critical
// timeStamping EKU, as RFC 3161 requires).
func NewCA(t testing.TB, dir, name string) {
	OpenSSL(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name+"ca.key", "-out", name+"ca.pem",
		"-days", "3650", "-subj", "/CN=Test TSA Root "+name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	OpenSSL(t, dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name+"tsa.key", "-out", name+"tsa.csr", "-subj", "/CN=Test TSA "+name)
	os.WriteFile(filepath.Join(dir, "tsa.ext"), []byte("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o644)
	OpenSSL(t, dir, "x509", "-req", "-in", name+"tsa.csr", "-CA", name+"ca.pem", "-CAkey", name+"ca.key", "-CAcreateserial", "-days", "825", "-extfile", "tsa.ext", "-out", name+"tsa.pem")
}

// Start runs a TSA until the test ends.
func Start(t testing.TB) *TSA {
	t.Helper()
	dir := t.TempDir()
	NewCA(t, dir, "")
	os.WriteFile(filepath.Join(dir, "tsaserial"), []byte("01\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "tsa.cnf"), []byte(`[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = .
serial = $dir/tsaserial
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
certs = $dir/ca.pem
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
tsa_name = yes
`), 0o644)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		f, _ := os.CreateTemp(dir, "q*.tsq")
		f.Write(q)
		f.Close()
		out := f.Name() + ".tsr"
		cmd := exec.Command("openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", f.Name(), "-out", out)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			http.Error(w, string(b), http.StatusInternalServerError)
			return
		}
		b, _ := os.ReadFile(out)
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	return &TSA{URL: srv.URL, CAPEM: ca, Dir: dir}
}
