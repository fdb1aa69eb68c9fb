// Package tsa gets and checks RFC 3161 timestamps over a pack root, stored
// in the reference's witness_bundle.json at the pack root (pack-format.md
// §9.6, DECISIONS 22), so each tool reads the other's. Verification is pure
// Go (digitorus/timestamp and pkcs7): imprint, nonce, CMS signature, the
// chain to a given CA at the stamped time, and the TSA's timeStamping EKU.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
)

// BundleFile is the bundle's name at the pack root (where the reference
// writes it; verifiers warn about it as an unexpected entry, not fail).
const BundleFile = "witness_bundle.json"

// maxResponse bounds a TSA answer and a bundle.
const maxResponse = 1 << 20

// Bundle is witness_bundle.json (pack-format.md §9.6). Binary fields are
// standard base64 of DER: query_b64 the TimeStampReq, token_b64 the TSA's
// TimeStampResp (a bare TimeStampToken is accepted too), the certificates
// DER (PEM inside the base64 is accepted on reading).
type Bundle struct {
	SchemaVersion     string `json:"schema_version"`
	WitnessType       string `json:"witness_type"`
	PackRootSHA256    string `json:"pack_root_sha256"`
	AttestationSHA256 string `json:"attestation_sha256"`
	TSAURL            string `json:"tsa_url"`
	QueryB64          string `json:"query_b64"`
	TokenB64          string `json:"token_b64"`
	CACertB64         string `json:"ca_cert_b64,omitempty"`
	TSACertB64        string `json:"tsa_cert_b64,omitempty"`
	// Nonce is the request's nonce, decimal (a JSON number in the reference).
	Nonce      json.Number `json:"nonce"`
	GenTime    string      `json:"gen_time"`
	IssuedAt   string      `json:"issued_at"`
	VerifiedAt string      `json:"verified_at,omitempty"`
}

// Result is a verified timestamp.
type Result struct {
	PackRootSHA256 string    `json:"pack_root_sha256"`
	GenTime        time.Time `json:"gen_time"`
	TSA            string    `json:"tsa"`
	TSAURL         string    `json:"tsa_url"`
	Serial         string    `json:"serial"`
	Policy         string    `json:"policy"`
	CAPinned       bool      `json:"ca_pinned"`
}

// InvalidError: the bundle is present but does not verify (exit 2).
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "timestamp does not verify: " + e.Reason }

func invalid(f string, a ...any) error { return &InvalidError{Reason: fmt.Sprintf(f, a...)} }

// ErrNoBundle: the pack has no witness_bundle.json.
var ErrNoBundle = errors.New("the pack has no " + BundleFile)

// manifestRoots are the two roots of a pack's manifest a timestamp covers.
type manifestRoots struct {
	PackRoot    string
	Attestation string
}

func readRoots(dir string) (manifestRoots, []byte, error) {
	var m manifestRoots
	p, err := pack.OpenDir(dir)
	if err != nil {
		return m, nil, err
	}
	defer p.Close()
	m = manifestRoots{PackRoot: p.Manifest.PackRootSHA256, Attestation: p.Manifest.AttestationSHA256}
	d, err := hex.DecodeString(m.PackRoot)
	if err != nil || len(d) != sha256.Size {
		return m, nil, fmt.Errorf("%s: pack_root_sha256 is not 64 hex digits", pack.FileManifest)
	}
	return m, d, nil
}

// Stamp asks the TSA at url to timestamp the pack root of the pack in dir
// and writes witness_bundle.json. The answer is checked (imprint, nonce,
// signature; the chain too when caPEM is given) before it is written.
func Stamp(ctx context.Context, c *http.Client, dir, url string, caPEM []byte, now time.Time) (*Bundle, *Result, error) {
	m, digest, err := readRoots(dir)
	if err != nil {
		return nil, nil, err
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	q, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(q))
	if err != nil {
		return nil, nil, fmt.Errorf("--tsa: %w", err)
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("ask the TSA: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, nil, fmt.Errorf("read the TSA's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("the TSA answered %s", resp.Status)
	}
	b := &Bundle{SchemaVersion: "1.0.0", WitnessType: "rfc3161", PackRootSHA256: m.PackRoot, AttestationSHA256: m.Attestation,
		TSAURL: url, QueryB64: base64.StdEncoding.EncodeToString(q), TokenB64: base64.StdEncoding.EncodeToString(body),
		Nonce: json.Number(nonce.String()), IssuedAt: now.UTC().Format(time.RFC3339)}
	var ca *x509.Certificate
	if caPEM != nil {
		if ca, err = parseCert(caPEM); err != nil {
			return nil, nil, fmt.Errorf("--ca: %v", err)
		}
		b.CACertB64 = base64.StdEncoding.EncodeToString(ca.Raw)
	}
	res, tsaCert, err := check(b, digest, ca)
	if err != nil {
		return nil, nil, err
	}
	b.GenTime = res.GenTime.Format(time.RFC3339)
	b.TSACertB64 = base64.StdEncoding.EncodeToString(tsaCert.Raw)
	if ca != nil {
		b.VerifiedAt = time.Now().UTC().Format(time.RFC3339)
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, BundleFile), out, 0o644); err != nil {
		return nil, nil, err
	}
	return b, res, nil
}

// Verify checks the pack's witness_bundle.json. caPEM pins the CA; nil uses
// the CA recorded in the bundle (which only shows the bundle is internally
// consistent: the result says the CA was not pinned).
func Verify(dir string, caPEM []byte) (*Result, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(BundleFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoBundle
	}
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(f, 4*maxResponse))
	f.Close()
	if err != nil {
		return nil, err
	}
	b, err := ParseBundle(raw)
	if err != nil {
		return nil, invalid("%v", err)
	}
	m, digest, err := readRoots(dir)
	if err != nil {
		return nil, invalid("%v", err)
	}
	if b.PackRootSHA256 != m.PackRoot {
		return nil, invalid("the bundle stamps pack root %s, the pack's is %s", short(b.PackRootSHA256), short(m.PackRoot))
	}
	var ca *x509.Certificate
	pinned := caPEM != nil
	if pinned {
		if ca, err = parseCert(caPEM); err != nil {
			return nil, fmt.Errorf("--ca: %v", err)
		}
	} else {
		der, err := decodeCertField(b.CACertB64)
		if err != nil {
			return nil, invalid("ca_cert_b64: %v", err)
		}
		if der != nil {
			if ca, err = x509.ParseCertificate(der); err != nil {
				return nil, invalid("ca_cert_b64: %v", err)
			}
		} else if ca = embeddedRoot(b.TokenB64); ca == nil {
			return nil, invalid("no CA to check the chain against: pass --ca (neither the bundle nor the token carries one)")
		}
	}
	res, _, err := check(b, digest, ca)
	if err != nil {
		return nil, err
	}
	res.CAPinned = pinned
	return res, nil
}

// ParseBundle parses witness_bundle.json.
func ParseBundle(raw []byte) (*Bundle, error) {
	var b Bundle
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %v", BundleFile, err)
	}
	if b.WitnessType != "rfc3161" {
		return nil, fmt.Errorf("%s: witness_type %q is not rfc3161", BundleFile, b.WitnessType)
	}
	return &b, nil
}

// check verifies the token in b over digest: imprint, nonce, signature,
// the chain to ca (when given) at the stamped time, and the signer's EKU.
func check(b *Bundle, digest []byte, ca *x509.Certificate) (*Result, *x509.Certificate, error) {
	tok, err := base64.StdEncoding.DecodeString(b.TokenB64)
	if err != nil {
		return nil, nil, invalid("token_b64 is not base64")
	}
	ts, err := timestamp.ParseResponse(tok)
	if err != nil {
		// A bare TimeStampToken rather than the whole response.
		if ts, err = timestamp.Parse(tok); err != nil {
			return nil, nil, invalid("token: %v", err)
		}
	}
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest) {
		return nil, nil, invalid("the token stamps another digest than the pack root")
	}
	if b.Nonce != "" {
		n, ok := new(big.Int).SetString(string(b.Nonce), 10)
		if !ok || ts.Nonce == nil || ts.Nonce.Cmp(n) != 0 {
			return nil, nil, invalid("the token's nonce differs from the request's")
		}
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return nil, nil, invalid("token: %v", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, nil, invalid("the token does not carry exactly one signer certificate")
	}
	if len(signer.ExtKeyUsage) != 1 || signer.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || !ekuCritical(signer) {
		return nil, nil, invalid("the signer certificate is not a TSA certificate (one critical timeStamping EKU)")
	}
	if ca == nil {
		if err := p7.Verify(); err != nil {
			return nil, nil, invalid("signature: %v", err)
		}
	} else {
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		inter := x509.NewCertPool()
		for _, c := range p7.Certificates {
			inter.AddCert(c)
		}
		if err := p7.VerifyWithOpts(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			return nil, nil, invalid("signature or chain: %v", err)
		}
	}
	return &Result{PackRootSHA256: hex.EncodeToString(digest), GenTime: ts.Time.UTC(), TSA: signer.Subject.String(), TSAURL: b.TSAURL,
		Serial: ts.SerialNumber.String(), Policy: ts.Policy.String(), CAPinned: ca != nil}, signer, nil
}

// embeddedRoot returns a self-signed CA certificate the token carries
// (a TSA asked for certificates may include its root), or nil.
func embeddedRoot(tokB64 string) *x509.Certificate {
	tok, err := base64.StdEncoding.DecodeString(tokB64)
	if err != nil {
		return nil
	}
	ts, err := timestamp.ParseResponse(tok)
	if err != nil {
		if ts, err = timestamp.Parse(tok); err != nil {
			return nil
		}
	}
	for _, c := range ts.Certificates {
		if c.IsCA && bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

var oidEKU = asn1.ObjectIdentifier{2, 5, 29, 37}

func ekuCritical(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidEKU) {
			return e.Critical
		}
	}
	return false
}

func parseCert(b []byte) (*x509.Certificate, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}

func decodeCertField(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	d, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(d); blk != nil {
		return blk.Bytes, nil
	}
	return d, nil
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
