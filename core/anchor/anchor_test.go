package anchor

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/tlog"
)

// TestAnchorPacks anchors two packs in one batch into a new local log; each
// anchor then verifies against its pack.
func TestPacks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := buildPack(t, dir, "a"), buildPack(t, dir, "b")
	out, err := Packs(t.Context(), Request{Packs: []string{a, b}, Log: filepath.Join(dir, "log"), Origin: "test.local/anchor", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].LeafIndex == out[1].LeafIndex || out[0].LogOrigin != "test.local/anchor" || out[1].Pack != b {
		t.Fatalf("anchored %+v", out)
	}
	for _, o := range out {
		if _, err := tlog.VerifyAnchor(o.Pack, tlog.VerifyOptions{}); err != nil {
			t.Errorf("%s: the written anchor does not verify: %v", o.Pack, err)
		}
	}
}

// TestAnchorPacksRefuses: nothing is appended or written unless every pack
// is an intact pack directory; plain HTTP goes only to localhost.
func TestAnchorPacksRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) Request
		code  int
		want  string
	}{
		{"tampered pack", func(t *testing.T, dir string) Request {
			good, bad := buildPack(t, dir, "good"), buildPack(t, dir, "bad")
			if err := os.WriteFile(filepath.Join(bad, "receipt_pack.jsonl"), []byte("{}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return Request{Packs: []string{good, bad}, Log: filepath.Join(dir, "log")}
		}, exit.Tampered, "does not verify"},
		{"bundle", func(t *testing.T, dir string) Request {
			return Request{Packs: []string{filepath.Join(dir, "p.tar.gz")}, Log: filepath.Join(dir, "log")}
		}, exit.BadInput, "is an audit bundle"},
		{"plain HTTP to another host", func(t *testing.T, dir string) Request {
			return Request{Packs: []string{buildPack(t, dir, "p")}, Log: "http://example.com/log/", Token: "t"}
		}, exit.BadInput, "only to localhost"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			req := tc.setup(t, dir)
			_, err := Packs(t.Context(), req)
			if exit.Code(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (code %d), want %d with %q", err, exit.Code(err), tc.code, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "log")); !os.IsNotExist(err) {
				t.Errorf("a log was created for a refused request")
			}
			for _, p := range req.Packs {
				if _, err := os.Stat(filepath.Join(p, filepath.FromSlash(tlog.AnchorFile))); err == nil {
					t.Errorf("%s got an anchor", p)
				}
			}
		})
	}
}

// buildPack builds a real signed pack with one receipt under dir/name.
func buildPack(t testing.TB, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	r := &receipt.Receipt{}
	for _, kv := range [][2]any{{"receipt_id", "r-" + name}, {"type", "model_call"}, {"timestamp", "2026-01-15T11:59:00Z"}, {"seq", 0}, {"model_id", "m"}} {
		r.Set(kv[0].(string), kv[1])
	}
	s := &keys.Signer{ID: "anchor-test", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if _, err := pack.Build(pack.Options{RunID: "run-" + name, Receipts: []*receipt.Receipt{r}, Signer: s, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	return out
}
