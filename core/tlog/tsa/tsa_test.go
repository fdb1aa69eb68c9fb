package tsa

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/tlog/tsa/tsatest"
)

func buildPack(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p")
	s := &keys.Signer{ID: "tsa-test", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if _, err := pack.Build(pack.Options{RunID: "run-tsa", Signer: s, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStampAndVerify(t *testing.T) {
	t.Parallel()
	tsa := tsatest.Start(t)
	p := buildPack(t)
	b, res, err := Stamp(context.Background(), http.DefaultClient, p, tsa.URL, tsa.CAPEM, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !res.CAPinned || time.Since(res.GenTime) > time.Hour || !strings.Contains(res.TSA, "Test TSA") || b.TSACertB64 == "" || b.VerifiedAt == "" {
		t.Fatalf("%+v %+v", res, b)
	}
	raw, _ := os.ReadFile(filepath.Join(p, BundleFile))
	var fields map[string]any
	json.Unmarshal(raw, &fields)
	for _, k := range []string{"schema_version", "witness_type", "pack_root_sha256", "attestation_sha256", "tsa_url", "query_b64", "token_b64", "ca_cert_b64", "tsa_cert_b64", "nonce", "gen_time", "issued_at", "verified_at"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("witness_bundle.json lacks %s", k)
		}
	}
	if _, err := Verify(p, tsa.CAPEM); err != nil {
		t.Fatal(err)
	}
	// The token also verifies with OpenSSL (what the reference runs).
	tok, _ := base64.StdEncoding.DecodeString(b.TokenB64)
	os.WriteFile(filepath.Join(tsa.Dir, "r.tsr"), tok, 0o644)
	tsatest.OpenSSL(t, tsa.Dir, "ts", "-verify", "-digest", b.PackRootSHA256, "-in", "r.tsr", "-CAfile", "ca.pem")

	t.Run("without a pinned CA", func(t *testing.T) {
		r, err := Verify(p, nil)
		if err != nil || r.CAPinned {
			t.Fatalf("%v %+v", err, r)
		}
	})
	t.Run("another CA", func(t *testing.T) {
		d := t.TempDir()
		tsatest.NewCA(t, d, "other")
		other, _ := os.ReadFile(filepath.Join(d, "otherca.pem"))
		mustInvalid(t, p, other, "chain")
	})
	for name, edit := range map[string]func(b *Bundle){
		"pack root changed": func(b *Bundle) { b.PackRootSHA256 = strings.Repeat("0", 64) },
		"nonce changed":     func(b *Bundle) { b.Nonce = "12345" },
		"token byte flipped": func(b *Bundle) {
			tok, _ := base64.StdEncoding.DecodeString(b.TokenB64)
			tok[len(tok)-10] ^= 0x01 // inside the signature
			b.TokenB64 = base64.StdEncoding.EncodeToString(tok)
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "p")
			os.CopyFS(d, os.DirFS(p))
			bp := filepath.Join(d, BundleFile)
			raw, _ := os.ReadFile(bp)
			b, _ := ParseBundle(raw)
			edit(b)
			out, _ := json.Marshal(b)
			os.WriteFile(bp, out, 0o644)
			mustInvalid(t, d, tsa.CAPEM, "")
		})
	}
	t.Run("another pack", func(t *testing.T) {
		d := buildPack(t)
		os.WriteFile(filepath.Join(d, BundleFile), raw, 0o644)
		mustInvalid(t, d, tsa.CAPEM, "pack root")
	})
	t.Run("absent", func(t *testing.T) {
		if _, err := Verify(buildPack(t), tsa.CAPEM); !errors.Is(err, ErrNoBundle) {
			t.Fatal(err)
		}
	})
}

func mustInvalid(t *testing.T, dir string, ca []byte, want string) {
	t.Helper()
	_, err := Verify(dir, ca)
	var ie *InvalidError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), want) {
		t.Fatalf("want an invalid timestamp mentioning %q, got %v", want, err)
	}
}
