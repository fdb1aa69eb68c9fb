package tlog

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

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
	keys := filepath.Join(tmp, "keys")
	cfg := AWSConfig{Bucket: "assay-log", DSN: dsn, Endpoint: s3url, AccessKey: "test", SecretKey: "test"}
	ctx := context.Background()
	packs := []string{buildPack(t, tmp, "a"), buildPack(t, tmp, "b"), buildPack(t, tmp, "c")}
	leaves := make([][]byte, len(packs))
	for i, p := range packs {
		l, _ := PackLeaf(p)
		leaves[i] = l.Bytes()
	}
	a, err := OpenAWSAppender(ctx, keys, cfg, AppendOptions{Origin: "aws.test/log", BatchSize: 3})
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
		if err := WriteAnchor(p, NewAnchor(ps[i], time.Now())); err != nil {
			t.Fatal(err)
		}
		if v := mustVerify(t, p, VerifyOptions{LogKey: a.Keys.VKey}); v.TreeSize != 3 {
			t.Fatalf("%+v", v)
		}
	}
	// The bucket is a tlog-tiles log: read it over HTTP (path style).
	src, err := OpenSource(s3url+"/assay-log/", nil)
	if err == nil {
		var rep *LogReport
		rep, err = VerifyLog(ctx, src, a.Keys.VKey, packs)
		if err == nil && (!rep.OK || rep.Latest.Size != 3) {
			err = fmt.Errorf("%+v", rep)
		}
	}
	if err != nil {
		t.Fatalf("reading the log from S3: %v", err)
	}
}
