package tlogaws

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/tlog/tlogtest"
)

// TestAWSBackend appends packs to a log on tessera's AWS backend (S3 API
// on gofakes3, sequencing on MariaDB), verifies each anchor offline, and
// reads the log back over the S3 API as tiles for a consistency check.
func TestAWSBackend(t *testing.T) {
	t.Parallel()
	dsn := tlogtest.StartMariaDB(t)
	s3url := tlogtest.StartS3(t, "assay-log")
	tmp := t.TempDir()
	keysDir := filepath.Join(tmp, "keys")
	cfg := Config{Bucket: "assay-log", DSN: dsn, Endpoint: s3url, AccessKey: "test", SecretKey: "test"}
	ctx := context.Background()
	packs := []string{buildPack(t, tmp, "a"), buildPack(t, tmp, "b"), buildPack(t, tmp, "c")}
	leaves := make([][]byte, len(packs))
	for i, p := range packs {
		l, _ := tlog.PackLeaf(p)
		leaves[i] = l.Bytes()
	}
	a, err := OpenAppender(ctx, keysDir, cfg, tlog.AppendOptions{Origin: "aws.test/log", BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Append(ctx, leaves)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i, p := range packs {
		if err := tlog.WriteAnchor(p, tlog.NewAnchor(ps[i], time.Now())); err != nil {
			t.Fatal(err)
		}
		v, err := tlog.VerifyAnchor(p, tlog.VerifyOptions{LogKey: a.Keys.VKey})
		if err != nil || v.TreeSize != 3 {
			t.Fatalf("anchor of %s: %+v, %v", p, v, err)
		}
	}
	// The bucket is a tlog-tiles log: read it over HTTP (path style).
	src, err := tlog.OpenSource(s3url+"/assay-log/", nil)
	if err == nil {
		var rep *tlog.LogReport
		rep, err = tlog.VerifyLog(ctx, src, a.Keys.VKey, packs)
		if err == nil && (!rep.OK || rep.Latest.Size != 3) {
			err = fmt.Errorf("%+v", rep)
		}
	}
	if err != nil {
		t.Fatalf("reading the log from S3: %v", err)
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
	s := &keys.Signer{ID: "tlog-test", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if _, err := pack.Build(pack.Options{RunID: "run-" + name, Receipts: []*receipt.Receipt{r}, Signer: s, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	return out
}
