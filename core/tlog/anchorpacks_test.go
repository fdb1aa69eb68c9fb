package tlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

// TestAnchorPacks anchors two packs in one batch into a new local log; each
// anchor then verifies against its pack.
func TestAnchorPacks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := buildPack(t, dir, "a"), buildPack(t, dir, "b")
	out, err := AnchorPacks(t.Context(), AnchorRequest{Packs: []string{a, b}, Log: filepath.Join(dir, "log"), Origin: "test.local/anchor", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].LeafIndex == out[1].LeafIndex || out[0].LogOrigin != "test.local/anchor" || out[1].Pack != b {
		t.Fatalf("anchored %+v", out)
	}
	for _, o := range out {
		if _, err := VerifyAnchor(o.Pack, VerifyOptions{}); err != nil {
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
		setup func(t *testing.T, dir string) AnchorRequest
		code  int
		want  string
	}{
		{"tampered pack", func(t *testing.T, dir string) AnchorRequest {
			good, bad := buildPack(t, dir, "good"), buildPack(t, dir, "bad")
			if err := os.WriteFile(filepath.Join(bad, "receipt_pack.jsonl"), []byte("{}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return AnchorRequest{Packs: []string{good, bad}, Log: filepath.Join(dir, "log")}
		}, exit.Tampered, "does not verify"},
		{"bundle", func(t *testing.T, dir string) AnchorRequest {
			return AnchorRequest{Packs: []string{filepath.Join(dir, "p.tar.gz")}, Log: filepath.Join(dir, "log")}
		}, exit.BadInput, "is an audit bundle"},
		{"plain HTTP to another host", func(t *testing.T, dir string) AnchorRequest {
			return AnchorRequest{Packs: []string{buildPack(t, dir, "p")}, Log: "http://example.com/log/", Token: "t"}
		}, exit.BadInput, "only to localhost"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			req := tc.setup(t, dir)
			_, err := AnchorPacks(t.Context(), req)
			if exit.Code(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (code %d), want %d with %q", err, exit.Code(err), tc.code, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "log")); !os.IsNotExist(err) {
				t.Errorf("a log was created for a refused request")
			}
			for _, p := range req.Packs {
				if _, err := os.Stat(filepath.Join(p, filepath.FromSlash(AnchorFile))); err == nil {
					t.Errorf("%s got an anchor", p)
				}
			}
		})
	}
}
